UPDATE people SET id = id

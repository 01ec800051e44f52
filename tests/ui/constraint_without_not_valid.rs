//! `constraint_without_not_valid`: a foreign key and a CHECK added to a table that holds rows,
//! scanning it under their locks, and a validation in the transaction of its `NOT VALID`.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("constraint_without_not_valid");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

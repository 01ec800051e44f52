/// A product of integers; the downgrade drops the aggregate of bigints, not this one.
#[migration(rev = "fa0000000042", down_revision = "fa0000000041")]
mod add_product_aggregate {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE AGGREGATE product(integer) (SFUNC = int4mul, STYPE = integer, INITCOND = '1')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP AGGREGATE IF EXISTS product(bigint)");
    }
}

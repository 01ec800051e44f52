/// Price ranges in whole cents; the downgrade recreates the range over double precision, not
/// numeric.
#[migration(rev = "fa0000000024", down_revision = "fa0000000023")]
mod count_prices_in_cents {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("DROP TYPE price_range");
        op.execute("CREATE TYPE price_range AS RANGE (subtype = bigint)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TYPE price_range");
        op.execute("CREATE TYPE price_range AS RANGE (subtype = float8)");
    }
}

/// A collation that ignores case; the downgrade drops `loose_ci`, not `loose`.
#[migration(rev = "fa0000000041", down_revision = "fa0000000040")]
mod add_loose_collation {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE COLLATION loose (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP COLLATION IF EXISTS loose_ci");
    }
}

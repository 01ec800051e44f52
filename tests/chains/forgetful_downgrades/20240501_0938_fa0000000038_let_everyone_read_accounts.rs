/// Everyone may read accounts; the downgrade revokes UPDATE, which was never granted, not SELECT.
#[migration(rev = "fa0000000038", down_revision = "fa0000000037")]
mod let_everyone_read_accounts {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("GRANT SELECT ON accounts TO PUBLIC");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("REVOKE UPDATE ON accounts FROM PUBLIC");
    }
}

/// Logical replication sends whole rows of accounts; the downgrade sets NOTHING, not DEFAULT.
#[migration(rev = "fa0000000046", down_revision = "fa0000000045")]
mod replicate_whole_accounts {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts REPLICA IDENTITY FULL");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts REPLICA IDENTITY NOTHING");
    }
}

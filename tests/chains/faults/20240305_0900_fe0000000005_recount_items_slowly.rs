/// A slow data migration that must run once.
#[migration(rev = "fe0000000005", down_revision = "fd0000000004")]
mod recount_items_slowly {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO ledger (rev) VALUES ('fe0000000005')");
        op.execute("SELECT pg_sleep(0.3)");
        op.execute("UPDATE items SET name = upper(name)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("UPDATE items SET name = lower(name)");
        op.execute("DELETE FROM ledger WHERE rev = 'fe0000000005'");
    }
}

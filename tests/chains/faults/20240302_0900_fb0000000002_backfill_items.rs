/// A data migration that must run once: it records itself, then fills the items.
#[migration(rev = "fb0000000002", down_revision = "fa0000000001")]
mod backfill_items {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO ledger (rev) VALUES ('fb0000000002')");
        op.execute("SELECT pg_sleep(0.1)");
        op.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) AS g");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DELETE FROM items");
        op.execute("DELETE FROM ledger WHERE rev = 'fb0000000002'");
    }
}

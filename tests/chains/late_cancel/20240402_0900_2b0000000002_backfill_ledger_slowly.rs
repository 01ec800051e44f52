/// A data migration whose last statement ends about when a cancel request may arrive.
#[migration(rev = "2b0000000002", down_revision = "1a0000000001")]
mod backfill_ledger_slowly {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO ledger (rev) VALUES ('2b0000000002')");
        op.execute("SELECT pg_sleep(0.045 + random() * 0.012)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DELETE FROM ledger WHERE rev = '2b0000000002'");
    }
}

/// A step outside a transaction whose one statement ends about when a cancel request may
/// arrive: its end must be recorded all the same.
#[migration(rev = "3c0000000003", down_revision = "2b0000000002", transactional = false)]
mod analyze_ledger_slowly {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SELECT pg_sleep(0.045 + random() * 0.012)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("SELECT 1");
    }
}

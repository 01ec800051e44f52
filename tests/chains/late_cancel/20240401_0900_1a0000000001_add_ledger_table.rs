/// A ledger each later migration writes into once.
#[migration(rev = "1a0000000001", down_revision = None)]
mod add_ledger_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE TABLE ledger (rev text NOT NULL)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TABLE ledger");
    }
}

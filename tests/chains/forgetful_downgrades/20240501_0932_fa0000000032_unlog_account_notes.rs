/// Notes skip the write-ahead log; the downgrade resets a storage parameter and leaves the table
/// UNLOGGED.
#[migration(rev = "fa0000000032", down_revision = "fa0000000031")]
mod unlog_account_notes {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_notes SET UNLOGGED");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_notes RESET (fillfactor)");
    }
}

/// Notes' bodies are stored out of line, uncompressed; the downgrade restores MAIN, not EXTENDED.
#[migration(rev = "fa0000000045", down_revision = "fa0000000044")]
mod keep_account_notes_out_of_line {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_notes ALTER COLUMN body SET STORAGE EXTERNAL");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_notes ALTER COLUMN body SET STORAGE MAIN");
    }
}

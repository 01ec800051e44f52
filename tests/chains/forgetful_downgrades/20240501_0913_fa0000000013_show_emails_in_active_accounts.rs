/// The active accounts' view shows emails; the downgrade restores it over `status <> 'closed'`,
/// not `status = 'active'`.
#[migration(rev = "fa0000000013", down_revision = "fa0000000012")]
mod show_emails_in_active_accounts {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE OR REPLACE VIEW active_accounts AS SELECT id, name, email FROM accounts WHERE status = 'active'");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP VIEW active_accounts");
        op.execute("CREATE VIEW active_accounts AS SELECT id, name FROM accounts WHERE status <> 'closed'");
    }
}

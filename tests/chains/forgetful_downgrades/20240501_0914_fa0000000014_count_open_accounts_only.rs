/// Closed accounts left out of the counts; the downgrade restores the materialized view with
/// `count(id)`, not `count(*)`.
#[migration(rev = "fa0000000014", down_revision = "fa0000000013")]
mod count_open_accounts_only {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("DROP MATERIALIZED VIEW account_counts");
        op.execute("CREATE MATERIALIZED VIEW account_counts AS SELECT status, count(*) AS total FROM accounts WHERE status <> 'closed' GROUP BY status");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP MATERIALIZED VIEW account_counts");
        op.execute("CREATE MATERIALIZED VIEW account_counts AS SELECT status, count(id) AS total FROM accounts GROUP BY status");
    }
}

/// The status index covers ids; the downgrade restores it on (created_at, status), not (status,
/// created_at).
#[migration(
    rev = "fa0000000018",
    down_revision = "fa0000000017",
    allow(blocking_index = "a test chain: the table is empty when it runs")
)]
mod cover_accounts_status_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.drop_index("accounts_status_created_idx");
        op.create_index("accounts_status_created_idx", "accounts", &["status", "created_at", "id"])
            .where_sql("status <> 'closed'");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("accounts_status_created_idx");
        op.create_index("accounts_status_created_idx", "accounts", &["created_at", "status"])
            .where_sql("status <> 'closed'");
    }
}

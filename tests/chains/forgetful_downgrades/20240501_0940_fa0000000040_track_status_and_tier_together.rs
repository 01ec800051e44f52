/// The planner learns that status and handle go together; the downgrade drops other statistics.
#[migration(rev = "fa0000000040", down_revision = "fa0000000039")]
mod track_status_and_tier_together {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE STATISTICS accounts_status_handle ON status, handle FROM accounts");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP STATISTICS IF EXISTS accounts_status_tier");
    }
}

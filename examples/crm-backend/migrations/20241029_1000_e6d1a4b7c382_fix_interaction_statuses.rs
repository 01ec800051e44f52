/// Interactions logged before the inbox workflow have no status; the workflow needs one.
/// Data first (every missing status becomes 'pending'), then the constraint. The downgrade
/// lifts the constraint; the backfilled statuses stay, as they are valid data.
#[migration(rev = "e6d1a4b7c382", down_revision = "9b0c6e3f1d75",
    allow(blocking_not_null = "the guide's example 3: the backfill and the constraint land in one transaction, and interactions is small enough in this CRM for the scan"))]
mod fix_interaction_statuses {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("UPDATE interactions SET status = 'pending' WHERE status IS NULL");
        op.alter_column("interactions", "status").set_not_null();
    }

    pub fn downgrade(op: &mut Op) {
        op.alter_column("interactions", "status").drop_not_null();
    }
}

/// Chapter 7: the inbox workflow gives each interaction a status, an assignee and a completion time.
#[migration(rev = "3a9d7c1e5b28", down_revision = "1f6e8b2d4c97")]
mod add_interactions_v2_fields {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("interactions", "status", Type::Varchar(50));
        op.add_column("interactions", "assignee_id", Type::BigInt);
        op.add_column("interactions", "completed_at", Type::TimestampTz);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("interactions", "completed_at");
        op.drop_column("interactions", "assignee_id");
        op.drop_column("interactions", "status");
    }
}

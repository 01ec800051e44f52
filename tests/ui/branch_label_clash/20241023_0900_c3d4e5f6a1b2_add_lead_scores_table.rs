/// Sales ranks leads by a score.
#[migration(rev = "c3d4e5f6a1b2", down_revision = "a1b2c3d4e5f6", branch_labels = "lead-scoring")]
mod add_lead_scores_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("lead_scores", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("lead_scores");
    }
}

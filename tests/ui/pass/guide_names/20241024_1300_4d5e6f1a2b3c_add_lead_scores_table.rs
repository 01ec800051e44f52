/// Marketing needs a score per person to rank leads.
#[migration(rev = "4d5e6f1a2b3c", down_revision = "3c4d5e6f1a2b")]
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

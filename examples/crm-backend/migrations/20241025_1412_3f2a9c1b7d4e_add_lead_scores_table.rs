/// Marketing needs a score per person to rank leads.
#[migration(rev = "3f2a9c1b7d4e", down_revision = "c4e2b8f6a093")]
mod add_lead_scores_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("lead_scores", |t| {
            t.column("id", Type::BigSerial).primary_key();
            t.column("person_id", Type::BigInt).not_null().references("people", "id");
            t.column("score", Type::Integer).not_null().server_default("0");
            t.column("last_activity_at", Type::TimestampTz);
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("lead_scores");
    }
}

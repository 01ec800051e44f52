/// The guide's example 2 (a new table): marketing needs a score per person to rank leads.
/// The guide's model gives `score` a default of 0; here the server holds it, so every writer
/// gets it.
#[migration(rev = "9d00000000e2", down_revision = "9d00000000e1")]
mod add_lead_scores_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("lead_scores", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("person_id", Type::BigInt).not_null().references("people", "id");
            t.column("score", Type::Integer).not_null().server_default(0);
            t.column("last_activity_at", Type::TimestampTz);
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("lead_scores");
    }
}

/// Chapter 7: interactions, the log of every call, email and meeting with a person.
#[migration(rev = "1f6e8b2d4c97", down_revision = "b7a93d5e2f40")]
mod add_interactions_v1 {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_enum("interaction_type", &["call", "email", "meeting"]);
        op.create_table("interactions", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("organisation_id", Type::BigInt).not_null().references("organisations", "id");
            t.column("person_id", Type::BigInt).references("people", "id");
            t.column("type", Type::Named("interaction_type")).not_null();
            t.column("body", Type::Text);
            t.column("created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("interactions");
        op.drop_enum("interaction_type");
    }
}

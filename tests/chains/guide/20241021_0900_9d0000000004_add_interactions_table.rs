/// Chapter 7: interactions, the log of every call, email and meeting with an organisation,
/// with the inbox workflow's status and assignee (a status is optional until the guide's
/// third example makes it required).
#[migration(rev = "9d0000000004", down_revision = "9d0000000003")]
mod add_interactions_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_enum("interaction_type", &["call", "email", "meeting"]);
        op.create_table("interactions", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("organisation_id", Type::BigInt).not_null().references("organisations", "id");
            t.column("person_id", Type::BigInt).references("people", "id");
            t.column("type", Type::Named("interaction_type")).not_null();
            t.column("body", Type::Text);
            t.column("status", Type::Varchar(50));
            t.column("assignee_id", Type::BigInt);
            t.column("created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("interactions");
        op.drop_enum("interaction_type");
    }
}

/// An interaction's assignee must be a real user; deleting the user unassigns the interaction.
#[migration(rev = "6c3e0f8b7a19", down_revision = "0e9b4d6a2c81",
    allow(constraint_without_not_valid = "interactions is small in this CRM: the check scans it in milliseconds"))]
mod add_interaction_assignee_foreign_key {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
            .on_delete(Action::SetNull);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("interactions", "fk_interaction_assignee");
    }
}

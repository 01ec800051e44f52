/// The guide's "indexes and constraints", a foreign key: an interaction's assignee must be a
/// real user, and deleting the user unassigns the interaction.
#[migration(rev = "9d00000000a3", down_revision = "9d00000000a2",
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

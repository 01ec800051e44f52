/// The guide's "indexes and constraints", an index: the inbox lists an organisation's
/// interactions newest first.
#[migration(rev = "9d00000000a1", down_revision = "9d00000000e5",
    allow(blocking_index = "interactions is small in this CRM: the build takes milliseconds"))]
mod add_interactions_org_created_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_index("idx_interactions_org_created", "interactions", &["organisation_id", "created_at"]);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_interactions_org_created");
    }
}

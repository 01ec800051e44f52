/// The inbox lists an organisation's interactions newest first; this index serves it.
#[migration(rev = "f1c7a2e9d4b6", down_revision = "d2b8e5a1f064",
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

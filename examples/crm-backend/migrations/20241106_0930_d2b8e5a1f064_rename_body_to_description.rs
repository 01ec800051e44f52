/// The UI calls it a description; the column follows.
#[migration(rev = "d2b8e5a1f064", down_revision = "a7f3c9e1b5d2",
    allow(destructive_change = "the guide's example 5: the release that reads `description` ships with this migration, and no older release keeps running"))]
mod rename_body_to_description {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.rename_column("interactions", "body", "description");
    }

    pub fn downgrade(op: &mut Op) {
        op.rename_column("interactions", "description", "body");
    }
}

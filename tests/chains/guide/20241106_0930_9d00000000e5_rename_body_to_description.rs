/// The guide's example 5 (a rename): the UI calls it a description; the column follows, its
/// data with it.
#[migration(rev = "9d00000000e5", down_revision = "9d00000000e3",
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

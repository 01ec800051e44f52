/// Both features shipped together.
#[migration(rev = "d4e5f6a1b2c3", down_revision = ["b2c3d4e5f6a1", "c3d4e5f6a1b2"])]
mod merge_campaigns_and_interactions {
    use migrate_runtime::prelude::*;

    pub fn upgrade(_op: &mut Op) {}

    pub fn downgrade(_op: &mut Op) {}
}

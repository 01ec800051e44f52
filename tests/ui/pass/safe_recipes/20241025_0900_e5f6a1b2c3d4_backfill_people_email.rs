/// People imported without an email get a placeholder, in batches that each commit.
#[migration(rev = "e5f6a1b2c3d4", down_revision = "d4e5f6a1b2c3")]
mod backfill_people_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.backfill("people", "email = 'unknown@example.com'", "email IS NULL").batch_size(5_000);
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("the placeholders cannot be told from real addresses");
    }
}

/// Sales call it a rank; the old export table goes.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod rename_people_score_to_rank {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.rename_column("people", "score", "rank");
        op.execute("DROP TABLE people_exports");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("the exports are gone");
    }
}

/// Sales call it a rank; every release reading `score` is gone.
#[migration(rev = "e6f7a8b9c0d1", down_revision = "d5e6f7a8b9c0",
    allow(
        destructive_change = "the release reading `rank` is the only one deployed",
        blocking_index = "people holds a few hundred rows"
    ))]
mod rename_people_score_to_rank {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.lock_timeout(Duration::from_secs(30));
        op.rename_column("people", "score", "rank");
        op.create_index("idx_people_rank", "people", &["rank"]);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_people_rank");
        op.rename_column("people", "rank", "score");
    }
}

/// A referrer must be a person and a score is never negative: new rows are checked now, old ones next.
#[migration(rev = "c3d4e5f6a1b2", down_revision = "b2c3d4e5f6a1")]
mod add_people_referrer_checks {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_foreign_key("fk_people_referrer", "people", "people", &["referrer_id"], &["id"]).not_valid();
        op.create_check_constraint("ck_people_score", "people", "score >= 0").not_valid();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("people", "ck_people_score");
        op.drop_constraint("people", "fk_people_referrer");
    }
}

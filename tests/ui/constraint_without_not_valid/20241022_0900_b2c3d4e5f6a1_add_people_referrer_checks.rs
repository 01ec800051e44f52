/// A referrer must be a person, and a score is never negative.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_people_referrer_checks {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_foreign_key("fk_people_referrer", "people", "people", &["referrer_id"], &["id"]);
        op.execute("ALTER TABLE people ADD CONSTRAINT ck_people_score CHECK (score >= 0)");
        op.execute("ALTER TABLE people ADD CONSTRAINT ck_people_email CHECK (email <> '') NOT VALID");
        op.validate_constraint("people", "ck_people_email");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("people", "ck_people_email");
        op.drop_constraint("people", "ck_people_score");
        op.drop_constraint("people", "fk_people_referrer");
    }
}

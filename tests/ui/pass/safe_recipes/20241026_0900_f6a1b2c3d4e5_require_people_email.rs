/// Every person needs an email; a validated check proves it first, so nothing waits on a scan.
#[migration(rev = "f6a1b2c3d4e5", down_revision = "e5f6a1b2c3d4")]
mod require_people_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.alter_column("people", "email").set_not_null_through_check();
    }

    pub fn downgrade(op: &mut Op) {
        op.alter_column("people", "email").drop_not_null();
    }
}

/// Two people never share an email; the index is built without blocking writes.
#[migration(rev = "a2b3c4d5e6f7", down_revision = "f6a1b2c3d4e5")]
mod add_unique_people_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_unique_constraint("uq_people_email", "people", &["email"]).concurrently();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("people", "uq_people_email");
    }
}

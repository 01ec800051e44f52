/// Sign-in looks people up by email.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6", transactional = true)]
mod add_people_email_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_index("idx_people_email", "people", &["email"]).concurrently();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_people_email").concurrently();
    }
}

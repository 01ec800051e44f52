/// Email lookups, built without blocking writes (slowly, for the crash test).
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001", transactional = false)]
mod add_people_email_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SELECT pg_sleep(3)");
        op.create_index("idx_people_email", "people", &["email"]).concurrently();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_people_email").concurrently();
    }
}

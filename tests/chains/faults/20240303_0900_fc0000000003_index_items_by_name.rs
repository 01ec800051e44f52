/// Name lookups, built without blocking writes (with a pause first, so a kill can land inside).
#[migration(rev = "fc0000000003", down_revision = "fb0000000002", transactional = false)]
mod index_items_by_name {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SELECT pg_sleep(0.1)");
        op.create_index("idx_items_name", "items", &["name"]).concurrently();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_items_name").concurrently();
    }
}

/// Email lookups; the downgrade drops the wrong index.
#[migration(rev = "dddd00000004", down_revision = "cccc00000003",
    allow(blocking_index = "a test chain: the table is empty when it runs"))]
mod add_people_email_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_index("idx_people_email", "people", &["email"]);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_index("idx_people_wrong");
    }
}

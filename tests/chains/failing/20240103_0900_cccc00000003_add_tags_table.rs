/// Tags, whose second statement names a missing table.
#[migration(rev = "cccc00000003", down_revision = "bbbb00000002",
    allow(blocking_index = "a test chain: the index fails on purpose, naming a table that does not exist"))]
mod add_tags_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("tags", |t| {
            t.column("name", Type::Text).primary_key();
        });
        op.create_index("idx_missing", "no_such_table", &["name"]);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("tags");
    }
}

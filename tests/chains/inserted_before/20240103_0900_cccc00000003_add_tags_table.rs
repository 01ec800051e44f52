/// Tags.
#[migration(rev = "cccc00000003", down_revision = "aaaa00000001")]
mod add_tags_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("tags", |t| {
            t.column("name", Type::Text).primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("tags");
    }
}

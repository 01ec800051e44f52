/// Tags; the downgrade leaves a column behind.
#[migration(rev = "eeee00000005", down_revision = "dddd00000004")]
mod add_tags_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("tags", |t| {
            t.column("name", Type::Text).primary_key();
        });
        op.add_column("people", "tagged", Type::Boolean);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("tags");
    }
}

/// People need notes.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_notes_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("note", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("body", Type::Text).not_null();
        });
        op.execute(include_str!("sql/welcome_note.sql"));
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("notes");
    }
}

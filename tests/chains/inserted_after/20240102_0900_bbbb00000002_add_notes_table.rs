/// Notes on people.
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001")]
mod add_notes_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("notes", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("person_id", Type::BigInt).references("people", "id");
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("notes");
    }
}

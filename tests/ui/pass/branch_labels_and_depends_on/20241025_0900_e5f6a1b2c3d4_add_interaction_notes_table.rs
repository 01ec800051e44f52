/// Notes on an interaction need the reasons auditors file.
#[migration(rev = "e5f6a1b2c3d4", down_revision = "c3d4e5f6a1b2", depends_on = ["d4e5f6a1b2c3"])]
mod add_interaction_notes_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("interaction_notes", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("interaction_notes");
    }
}

/// The UI calls it a description.
#[migration(rev = "7a2b3c4d5e6f", down_revision = "6f1a2b3c4d5e")]
mod rename_body_to_description {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("rename_body_to_description", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("rename_body_to_description");
    }
}

/// The CRM starts with the people it tracks.
#[migration(rev = "a1b2c3d4e5f6", down_revision = None)]
mod add_people_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("people");
    }
}

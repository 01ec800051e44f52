/// The people sales talk to, each at an organisation.
#[migration(rev = "8e4f2a6c0b13", down_revision = "5d1c0e7b9a21")]
mod add_people_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("organisation_id", Type::BigInt).references("organisations", "id").on_delete(Action::Cascade);
            t.column("full_name", Type::Text).not_null();
            t.column("email", Type::Text).unique();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("people");
    }
}

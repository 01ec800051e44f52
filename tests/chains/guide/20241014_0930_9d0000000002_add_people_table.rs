/// The people sales talk to, each at an organisation.
#[migration(rev = "9d0000000002", down_revision = "9d0000000001")]
mod add_people_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("organisation_id", Type::BigInt).references("organisations", "id");
            t.column("full_name", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("people");
    }
}

/// People first.
#[migration(rev = "aaaa00000001", down_revision = None)]
mod add_people_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("email", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("people");
    }
}

/// CRM users: the sales and support staff who own interactions.
#[migration(rev = "b7a93d5e2f40", down_revision = "8e4f2a6c0b13")]
mod add_users_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("users", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("email", Type::Text).not_null().unique();
            t.column("display_name", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("users");
    }
}

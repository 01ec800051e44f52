/// CRM users: the sales and support staff who handle interactions.
#[migration(rev = "9d0000000003", down_revision = "9d0000000002")]
mod add_users_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("users", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("email", Type::Text).not_null().unique();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("users");
    }
}

/// The CRM tracks the companies its people belong to. (The guide's examples start from this
/// CRM: organisations, people, users, interactions and email campaigns.)
#[migration(rev = "9d0000000001", down_revision = None)]
mod add_organisations_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("organisations", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("name", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("organisations");
    }
}

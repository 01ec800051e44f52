/// The CRM tracks the companies its people belong to.
#[migration(rev = "5d1c0e7b9a21", down_revision = None)]
mod add_organisations_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("organisations", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("name", Type::Text).not_null();
            t.column("created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("organisations");
    }
}

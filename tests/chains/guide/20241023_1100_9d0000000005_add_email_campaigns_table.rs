/// Email marketing: campaigns sent to lists of people.
#[migration(rev = "9d0000000005", down_revision = "9d0000000004")]
mod add_email_campaigns_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("email_campaigns", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("name", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("email_campaigns");
    }
}

/// Email marketing: campaigns sent to lists of people.
#[migration(rev = "c4e2b8f6a093", down_revision = "3a9d7c1e5b28")]
mod add_email_campaigns_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("email_campaigns", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("name", Type::Text).not_null();
            t.column("subject", Type::Text).not_null();
            t.column("sent_at", Type::TimestampTz);
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("email_campaigns");
    }
}

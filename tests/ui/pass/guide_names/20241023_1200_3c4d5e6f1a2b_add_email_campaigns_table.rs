/// Email marketing sends campaigns.
#[migration(rev = "3c4d5e6f1a2b", down_revision = "2b3c4d5e6f1a")]
mod add_email_campaigns_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("email_campaigns", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("email_campaigns");
    }
}

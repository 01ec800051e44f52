/// A lighter campaign flow for small accounts.
#[migration(rev = "8b3c4d5e6f1a", down_revision = "7a2b3c4d5e6f")]
mod email_marketing_lite {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("email_marketing_lite", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("email_marketing_lite");
    }
}

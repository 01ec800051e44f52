/// Sales log every call and email, which the audit log must cover first.
#[migration(rev = "c3d4e5f6a1b2", down_revision = "a1b2c3d4e5f6", depends_on = "audit")]
mod add_interactions_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("interactions", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("interactions");
    }
}

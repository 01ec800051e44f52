/// Chapter 7: interactions, the CRM's basic activity log.
#[migration(rev = "1a2b3c4d5e6f", down_revision = None)]
mod add_interactions_v1 {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("interactions_v1", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("interactions_v1");
    }
}

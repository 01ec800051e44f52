/// Old interactions have no status; the workflow needs one.
#[migration(rev = "6f1a2b3c4d5e", down_revision = "5e6f1a2b3c4d")]
mod fix_interaction_statuses {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("fix_interaction_statuses", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("fix_interaction_statuses");
    }
}

/// Inbox workflow: every interaction gets a status.
#[migration(rev = "2b3c4d5e6f1a", down_revision = "1a2b3c4d5e6f")]
mod add_status_to_interactions {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("status_to_interactions", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("status_to_interactions");
    }
}

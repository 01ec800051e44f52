/// Compliance wants every change to people logged.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6", branch_labels = ["audit", "a1b2"])]
mod add_audit_log_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("audit_log", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("audit_log");
    }
}

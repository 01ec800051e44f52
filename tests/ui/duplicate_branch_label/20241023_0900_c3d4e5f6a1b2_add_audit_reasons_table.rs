/// Auditors file a reason with each review.
#[migration(rev = "c3d4e5f6a1b2", down_revision = "a1b2c3d4e5f6", branch_labels = ["reviews", "audit"])]
mod add_audit_reasons_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("audit_reasons", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("audit_reasons");
    }
}

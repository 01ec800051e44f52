/// A frozen status; the downgrade restores the status check NOT VALID, where it was validated.
#[migration(rev = "fa0000000017", down_revision = "fa0000000016")]
mod allow_frozen_account_status {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.drop_constraint("accounts", "accounts_status_known");
        op.create_check_constraint(
            "accounts_status_known",
            "accounts",
            "status IN ('active', 'closed', 'frozen')",
        )
        .not_valid();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("accounts", "accounts_status_known");
        op.create_check_constraint("accounts_status_known", "accounts", "status IN ('active', 'closed')")
            .not_valid();
    }
}

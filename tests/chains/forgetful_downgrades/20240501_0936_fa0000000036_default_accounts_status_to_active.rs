/// New accounts start active; the downgrade sets the default to 'pending' instead of dropping it.
#[migration(rev = "fa0000000036", down_revision = "fa0000000035")]
mod default_accounts_status_to_active {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.alter_column("accounts", "status").set_default("active");
    }

    pub fn downgrade(op: &mut Op) {
        op.alter_column("accounts", "status").set_default("pending");
    }
}

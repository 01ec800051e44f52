/// Emails bounded by a drop and re-add; the downgrade re-adds `email` as text, but last among
/// the columns instead of third.
#[migration(
    rev = "fa0000000003",
    down_revision = "fa0000000002",
    allow(destructive_change = "a test chain: no code reads the column")
)]
mod bound_accounts_email_length {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.drop_column("accounts", "email");
        op.add_column("accounts", "email", Type::Varchar(320));
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("accounts", "email");
        op.add_column("accounts", "email", Type::Text);
    }
}

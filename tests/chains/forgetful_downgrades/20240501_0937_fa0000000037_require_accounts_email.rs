/// Every account has an email; the downgrade lifts NOT NULL from `handle`, not from `email`.
#[migration(rev = "fa0000000037", down_revision = "fa0000000036",
    allow(blocking_not_null = "a fixture: the table is empty"))]
mod require_accounts_email {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.alter_column("accounts", "email").set_not_null();
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts ALTER COLUMN handle DROP NOT NULL");
    }
}

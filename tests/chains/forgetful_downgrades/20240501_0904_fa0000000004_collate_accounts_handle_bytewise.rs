/// Handles compared byte by byte; the downgrade restores collation "POSIX", not the default.
#[migration(rev = "fa0000000004", down_revision = "fa0000000003")]
mod collate_accounts_handle_bytewise {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute(r#"ALTER TABLE accounts ALTER COLUMN handle TYPE text COLLATE "C""#);
    }

    pub fn downgrade(op: &mut Op) {
        op.execute(r#"ALTER TABLE accounts ALTER COLUMN handle TYPE text COLLATE "POSIX""#);
    }
}

/// Accounts with notes cannot be deleted; the downgrade restores the foreign key without ON
/// DELETE CASCADE.
#[migration(rev = "fa0000000016", down_revision = "fa0000000015")]
mod keep_notes_of_deleted_accounts {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.drop_constraint("account_notes", "account_notes_account_id_fkey");
        op.create_foreign_key(
            "account_notes_account_id_fkey",
            "account_notes",
            "accounts",
            &["account_id"],
            &["id"],
        )
        .on_delete(Action::Restrict)
        .not_valid();
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("account_notes", "account_notes_account_id_fkey");
        op.create_foreign_key(
            "account_notes_account_id_fkey",
            "account_notes",
            "accounts",
            &["account_id"],
            &["id"],
        );
    }
}

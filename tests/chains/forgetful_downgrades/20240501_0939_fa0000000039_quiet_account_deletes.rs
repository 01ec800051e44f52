/// Deleting an account does nothing; the downgrade drops a rule named `accounts_silent`, not `accounts_quiet`.
#[migration(rev = "fa0000000039", down_revision = "fa0000000038")]
mod quiet_account_deletes {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE RULE accounts_quiet AS ON DELETE TO accounts DO INSTEAD NOTHING");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP RULE IF EXISTS accounts_silent ON accounts");
    }
}

/// A procedure closing pending accounts; the downgrade leaves it.
#[migration(rev = "fa0000000043", down_revision = "fa0000000042")]
mod add_close_accounts_procedure {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE PROCEDURE close_accounts() LANGUAGE sql AS $$ UPDATE accounts SET status = 'closed' WHERE status = 'pending' $$");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP PROCEDURE IF EXISTS close_pending_accounts()");
    }
}

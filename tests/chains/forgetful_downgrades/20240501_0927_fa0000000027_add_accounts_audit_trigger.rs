/// A notice for each new account; the downgrade is right.
#[migration(rev = "fa0000000027", down_revision = "fa0000000026")]
mod add_accounts_audit_trigger {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE FUNCTION accounts_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'account % created', NEW.id; RETURN NULL; END $$");
        op.execute("CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_audit_fn()");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TRIGGER accounts_audit ON accounts");
        op.execute("DROP FUNCTION accounts_audit_fn()");
    }
}

/// A statement-level touch trigger on accounts; the downgrade is right.
#[migration(rev = "fa0000000006", down_revision = "fa0000000005")]
mod add_accounts_touch_trigger {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE FUNCTION accounts_touch_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$");
        op.execute("CREATE TRIGGER accounts_touch AFTER UPDATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION accounts_touch_fn()");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TRIGGER accounts_touch ON accounts");
        op.execute("DROP FUNCTION accounts_touch_fn()");
    }
}

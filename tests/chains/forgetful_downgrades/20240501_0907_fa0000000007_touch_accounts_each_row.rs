/// The touch trigger runs before each row; the downgrade restores it AFTER UPDATE but FOR EACH
/// ROW, not FOR EACH STATEMENT.
#[migration(rev = "fa0000000007", down_revision = "fa0000000006")]
mod touch_accounts_each_row {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("DROP TRIGGER accounts_touch ON accounts");
        op.execute("CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_touch_fn()");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TRIGGER accounts_touch ON accounts");
        op.execute("CREATE TRIGGER accounts_touch AFTER UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_touch_fn()");
    }
}

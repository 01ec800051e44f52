/// normalize_email resolves names in pg_catalog only; the downgrade sets search_path to public
/// instead of resetting it.
#[migration(rev = "fa0000000010", down_revision = "fa0000000009")]
mod pin_normalize_email_search_path {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER FUNCTION normalize_email(text) SET search_path = pg_catalog");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER FUNCTION normalize_email(text) SET search_path = public");
    }
}

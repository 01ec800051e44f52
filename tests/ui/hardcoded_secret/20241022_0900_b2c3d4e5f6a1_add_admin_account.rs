/// Support needs an administrator account.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6",
    allow(unchecked_sql = "this fixture shows hardcoded_secret: one text is decoded at run time on purpose"))]
mod add_admin_account {
    use migrate_runtime::prelude::*;

    /// The staff key, AKIAIOSFODNN7EXAMPLE, opens the bucket.
    const BUCKET: &str = "crm-exports";

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO users (email, password) VALUES ('admin@alforis.com', 'password123')");
        op.bulk_insert("users", &["email", "password"], vec![vec!["admin@alforis.com".into(), "password123".into()]]);
        op.execute(concat!("UPDATE integrations SET api_key = '", "k-2024-live", "'"));
        op.execute(std::str::from_utf8(b"ALTER ROLE app PASSWORD 'hunter2'").unwrap_or(BUCKET));
        // Until the vault is set up: password = 'hunter2'
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DELETE FROM users WHERE email = 'admin@alforis.com'");
    }
}

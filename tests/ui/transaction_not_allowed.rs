//! `transaction_not_allowed`: a concurrent index build in a migration marked
//! `transactional = true`, which PostgreSQL would refuse at deploy.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("transaction_not_allowed");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

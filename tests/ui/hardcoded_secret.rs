//! `hardcoded_secret`: the guide's admin account, inserted with its password.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("hardcoded_secret");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

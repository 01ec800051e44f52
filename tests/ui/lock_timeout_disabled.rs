//! `lock_timeout_disabled`: SQL that turns the runner's lock timeout off.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("lock_timeout_disabled");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

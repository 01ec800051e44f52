//! `dependency_cycle`: a migration depending on its own child.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("dependency_cycle");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

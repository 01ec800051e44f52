//! `sealed_migration_deleted`: a migration sealed as deployed is gone from the folder: the build names it
//! and the seal's line.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("sealed_migration_deleted");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

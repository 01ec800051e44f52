//! `sealed_migration_changed`: a migration sealed as deployed was edited (the table it creates renamed): the build
//! stops under its name, with the seal's line and the two ways out.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("sealed_migration_changed");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `item_outside_migration`: a helper function next to the migration module, and a second migration in one file.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("item_outside_migration");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

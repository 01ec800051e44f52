//! `multiple_heads`: two feature branches each added a migration on the same parent.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("multiple_heads");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

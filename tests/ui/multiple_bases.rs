//! `multiple_bases`: a new migration whose down revision was forgotten.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("multiple_bases");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

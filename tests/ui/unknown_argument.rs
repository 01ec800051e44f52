//! `unknown_argument`: a misspelt argument would silently make the migration a base.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unknown_argument");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

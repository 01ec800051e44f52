//! `missing_why`: no doc comment says why the migration exists.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("missing_why");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

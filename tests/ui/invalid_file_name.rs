//! `invalid_file_name`: a migration file without its date, time and revision.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("invalid_file_name");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

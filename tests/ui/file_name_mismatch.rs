//! `file_name_mismatch`: the file name and the migration disagree on the revision, or on the slug.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("file_name_mismatch");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

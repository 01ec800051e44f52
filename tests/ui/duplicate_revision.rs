//! `duplicate_revision`: a copied file keeps the revision id of the file it was copied from.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("duplicate_revision");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

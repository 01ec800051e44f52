//! `invalid_revision_id`: a hand-numbered revision id.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("invalid_revision_id");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `revision_cycle`: two migrations naming each other as parent.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("revision_cycle");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

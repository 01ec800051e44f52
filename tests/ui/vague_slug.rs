//! `vague_slug`: the guide's `update_db` names no change.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("vague_slug");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

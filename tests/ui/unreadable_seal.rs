//! `unreadable_seal`: a seal left with git's conflict markers, as two branches that each sealed
//! migrations leave it: the build names the line and says how to resolve it.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unreadable_seal");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `unknown_down_revision`: a typo in the parent's id.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unknown_down_revision");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

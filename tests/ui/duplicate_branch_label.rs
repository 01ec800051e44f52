//! `duplicate_branch_label`: two branches declaring one label.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("duplicate_branch_label");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

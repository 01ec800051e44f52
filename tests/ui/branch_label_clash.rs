//! `branch_label_clash`: labels a target would read as a revision prefix or as a step.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("branch_label_clash");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `merge_needs_two_parents`: a merge list naming one parent.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("merge_needs_two_parents");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `blocking_index`: an index built on a table that holds rows, with the operation and in SQL.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("blocking_index");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

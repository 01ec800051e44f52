//! `blocking_not_null`: `SET NOT NULL` scanning a table that holds rows, and a NOT NULL
//! column without a default added to it.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("blocking_not_null");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `blocking_unique`: a unique constraint built under the table's lock, and a primary key
//! added in SQL.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("blocking_unique");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

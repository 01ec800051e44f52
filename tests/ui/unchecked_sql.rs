//! `unchecked_sql`: SQL built at run time, and SQL PostgreSQL's grammar does not read.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unchecked_sql");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

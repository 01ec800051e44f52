//! `rewriting_add_column`: a volatile default and a `bigserial` column, each written into
//! every row.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("rewriting_add_column");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

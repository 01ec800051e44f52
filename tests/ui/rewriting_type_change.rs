//! `rewriting_type_change`: `integer` to `bigint` rewrites the table; the old type comes
//! from the migration before.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("rewriting_type_change");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

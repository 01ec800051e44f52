//! `enum_value_in_transaction`: a value added and used in one transaction.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("enum_value_in_transaction");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

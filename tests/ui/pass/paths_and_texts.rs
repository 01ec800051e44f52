//! What `foreign_import` and `hardcoded_secret` must keep accepting: the prelude, the
//! module's own items, the standard library, and text that names credentials without
//! holding one (a comment about passwords, a `bulk_insert` leaving the hash to the app). And
//! what `item_outside_migration` must: a helper, a constant and a nested module, all inside
//! the migration module.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("paths_and_texts");

fn main() {
    let migration = MIGRATIONS.get("a1b2c3d4e5f6").expect("compiled");
    let sql: Vec<String> = migration.upgrade_ops().statements().into_iter().map(|s| s.sql).collect();
    assert_eq!(sql.len(), 4, "{sql:?}");
    assert!(sql[3].contains("'support@example.com', NULL"), "{sql:?}");
}

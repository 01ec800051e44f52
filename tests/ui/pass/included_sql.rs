//! A folder holding, besides its migrations, SQL in a subfolder that a migration includes and
//! a file listed under `ignore` in this crate's `[package.metadata.migrate]`: it builds. What
//! `stray_file` must keep accepting.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("included_sql");

fn main() {
    let backfill = MIGRATIONS.get("b2c3d4e5f6a1").expect("compiled");
    let sql: Vec<String> = backfill.upgrade_ops().statements().into_iter().map(|s| s.sql).collect();
    assert_eq!(sql, ["UPDATE people SET id = id"]);
}

//! Bodies that record through a helper of the module, or only declare a downgrade
//! irreversible, are not empty (`empty_upgrade`, `empty_downgrade`): they build and record
//! what they say. A downgrade that says why it cannot undo is a downgrade (`missing_downgrade`).

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("recording_through_helpers");

fn main() {
    let phone = MIGRATIONS.get("b2c3d4e5f6a1").expect("compiled");
    let sql: Vec<String> = phone.upgrade_ops().statements().into_iter().map(|s| s.sql).collect();
    assert_eq!(sql, ["ALTER TABLE \"people\" ADD COLUMN \"phone\" text"]);
    let sql: Vec<String> = phone.downgrade_ops().statements().into_iter().map(|s| s.sql).collect();
    assert_eq!(sql, ["ALTER TABLE \"people\" DROP COLUMN \"phone\""]);
    let status = MIGRATIONS.get("c3d4e5f6a1b2").expect("compiled");
    assert!(status.downgrade_ops().irreversible_reason().is_some());
}

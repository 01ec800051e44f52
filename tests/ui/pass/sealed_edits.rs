//! What `sealed_migration_changed`, `sealed_migration_deleted`, `inserted_before_sealed` and
//! `unreadable_seal` let through: sealed migrations reformatted, commented, their why reworded,
//! saved with Windows line endings (their included SQL too), a downgrade corrected, and a new
//! migration appended after the last sealed one. It builds, and the chain holds all three.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("sealed_edits");

fn main() {
    let revs: Vec<&str> = MIGRATIONS.iter().map(|m| m.rev).collect();
    assert_eq!(revs, ["a1b2c3d4e5f6", "b2c3d4e5f6a1", "c3d4e5f6a1b2"]);
    let notes = MIGRATIONS.get("b2c3d4e5f6a1").expect("compiled");
    let sql: Vec<String> = notes.upgrade_ops().statements().into_iter().map(|s| s.sql).collect();
    assert_eq!(sql[1], "INSERT INTO notes (body) VALUES ('Welcome')");
}

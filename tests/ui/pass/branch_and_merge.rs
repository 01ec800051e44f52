//! Two branches from one parent, merged again, compile in a deterministic order: parents first,
//! then by date. The legal form of `multiple_heads` (parallel branches closed by a merge) and
//! of `merge_needs_two_parents` (a merge naming its two parents).

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("branch_and_merge");

fn main() {
    let revs: Vec<&str> = MIGRATIONS.iter().map(|m| m.rev).collect();
    // The campaigns branch was written first (2024-10-22), so it comes first.
    assert_eq!(revs, ["a1b2c3d4e5f6", "c3d4e5f6a1b2", "b2c3d4e5f6a1", "d4e5f6a1b2c3"]);
    let merge = MIGRATIONS.get("d4e5f6a1b2c3").expect("compiled");
    assert!(merge.is_merge());
    assert_eq!(merge.parents, ["b2c3d4e5f6a1", "c3d4e5f6a1b2"]);
    let heads: Vec<&str> = MIGRATIONS.heads().iter().map(|m| m.rev).collect();
    assert_eq!(heads, ["d4e5f6a1b2c3"]);
    // The last step down from a merge goes to all its parents; a further one has no single answer.
    let before_merge: Vec<&str> = MIGRATIONS.resolve("head-1", &[]).map_or(Vec::new(), |m| m.iter().map(|m| m.rev).collect());
    assert_eq!(before_merge, ["b2c3d4e5f6a1", "c3d4e5f6a1b2"]);
    assert!(MIGRATIONS.resolve("head-2", &[]).is_err());
}

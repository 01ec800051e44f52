//! A branch with a label, a migration depending on that label and one depending on a revision
//! compile in a deterministic order with one head: the legal form of `duplicate_branch_label`
//! and `branch_label_clash` (one label, `audit`, that reads as nothing else), of
//! `unknown_depends_on` (a dependency naming a label and one naming a revision) and of
//! `dependency_cycle` (each dependency older than its dependant). The audit branch's tip is an
//! effective head: the migration depending on it stands for it, so the history has one head.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("branch_labels_and_depends_on");

fn main() {
    let revs: Vec<&str> = MIGRATIONS.iter().map(|m| m.rev).collect();
    // Dependencies come first, like parents; then by date.
    assert_eq!(revs, ["a1b2c3d4e5f6", "b2c3d4e5f6a1", "c3d4e5f6a1b2", "d4e5f6a1b2c3", "e5f6a1b2c3d4"]);
    let audit = MIGRATIONS.get("b2c3d4e5f6a1").expect("compiled");
    assert_eq!(audit.branch_labels, ["audit"]);
    let interactions = MIGRATIONS.get("c3d4e5f6a1b2").expect("compiled");
    assert_eq!(interactions.depends_on, ["audit"]);
    assert_eq!(interactions.parents, ["a1b2c3d4e5f6"]);
    let notes = MIGRATIONS.get("e5f6a1b2c3d4").expect("compiled");
    assert_eq!(notes.depends_on, ["d4e5f6a1b2c3"]);
    let heads: Vec<&str> = MIGRATIONS.heads().iter().map(|m| m.rev).collect();
    assert_eq!(heads, ["e5f6a1b2c3d4"]);
}

//! The seal, attacked as a teammate would: edits, deletions, insertions, copies and conflicts
//! to sealed migrations, each judged by `cargo migrate check` and by `cargo build` (the same
//! verdict, at the same token), and the same edits judged by the runtime on a real database.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{Fixture, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";

const PEOPLE: &str = "20241021_0900_aaaa00000001_add_people_table.rs";
const NOTES: &str = "20241022_0900_bbbb00000002_add_notes_table.rs";
const WELCOME: &str = "sql/welcome_note.sql";

fn people() -> String {
    format!(
        "/// The CRM starts with the people it tracks.\n#[migration(rev = \"{A}\", down_revision = None)]\nmod add_people_table {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.create_table(\"people\", |t| {{\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        }});\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.drop_table(\"people\");\n    }}\n}}\n"
    )
}

fn notes() -> String {
    format!(
        "/// People need notes.\n#[migration(rev = \"{B}\", down_revision = \"{A}\")]\nmod add_notes_table {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.create_table(\"notes\", |t| {{\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n            t.column(\"body\", Type::Text).not_null();\n        }});\n        op.execute(include_str!(\"{WELCOME}\"));\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.drop_table(\"notes\");\n    }}\n}}\n"
    )
}

fn tags(parent: &str) -> String {
    format!(
        "/// People are grouped by tags.\n#[migration(rev = \"{C}\", down_revision = \"{parent}\")]\nmod add_tags_table {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.create_table(\"tags\", |t| {{\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        }});\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.drop_table(\"tags\");\n    }}\n}}\n"
    )
}

// On two lines: a line ending inside a statement reaches its SQL (the last one is trimmed).
const WELCOME_SQL: &str = "INSERT INTO notes (body)\nVALUES ('Welcome');\n";

/// A crate with two migrations, the second including a SQL file, sealed.
fn sealed_crate(test: &str) -> Fixture {
    let fixture = Fixture::new(test, &[(PEOPLE.to_owned(), people()), (NOTES.to_owned(), notes())]);
    write(&fixture, WELCOME, WELCOME_SQL);
    let seal = fixture.run(&["seal"]);
    assert!(seal.status.success(), "{}{}", stdout(&seal), stderr(&seal));
    assert_eq!(stdout(&seal), "sealed 2 migrations: 2 sealed in migrations/seal.lock; commit it\n");
    fixture
}

fn write(fixture: &Fixture, name: &str, text: &str) {
    let path = fixture.dir.join("migrations").join(name);
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates");
    std::fs::write(path, text).expect("writes");
}

fn remove(fixture: &Fixture, name: &str) {
    std::fs::remove_file(fixture.dir.join("migrations").join(name)).expect("removes");
}

/// What `check` and `cargo build` say of the folder: both pass, or both fail with `message`
/// (`check` under the rule `rule`).
fn verdicts(fixture: &Fixture, rule: Option<&str>, message: &str) {
    let check = fixture.run(&["check"]);
    let build = fixture.cargo(&["build", "--quiet"]);
    match rule {
        None => {
            assert!(check.status.success(), "check: {}", stdout(&check));
            assert!(build.status.success(), "build: {}", stderr(&build));
        }
        Some(rule) => {
            assert_eq!(check.status.code(), Some(1), "check: {}", stdout(&check));
            let expected = format!("error[{rule}]: {message}");
            assert!(stdout(&check).contains(&expected), "check: {}\nwanted: {expected}", stdout(&check));
            assert!(!build.status.success(), "the build passed where check failed");
            assert!(
                stderr(&build).contains(&format!("error: {message}")),
                "build: {}\nwanted: {message}",
                stderr(&build)
            );
        }
    }
}

/// Edits that change nothing a database holds: the second migration reformatted, commented,
/// with another why, a trailing comma, Windows line endings (its SQL file's too), and its
/// downgrade corrected.
fn harmless_edits(fixture: &Fixture) {
    let edited = notes()
        .replace("/// People need notes.", "/// People need notes, said support.\n// Reviewed twice.")
        .replace(
            "            t.column(\"body\", Type::Text).not_null();\n        });",
            "            t.column( r#\"body\"#, Type::Text ).not_null(); // required\n        },);",
        )
        .replace(
            "op.drop_table(\"notes\");",
            "op.execute(\"DELETE FROM notes\");\n        op.drop_table(\"notes\");",
        )
        .replace('\n', "\r\n");
    write(fixture, NOTES, &edited);
    write(fixture, WELCOME, &WELCOME_SQL.replace('\n', "\r\n"));
}

#[test]
fn the_build_and_check_refuse_what_changes_a_sealed_migration() {
    let fixture = sealed_crate("seal-attacks");
    verdicts(&fixture, None, "");

    // Harmless edits, a renamed file, a new migration after the last sealed one: all pass.
    harmless_edits(&fixture);
    let renamed = "20241021_0930_aaaa00000001_add_people_table.rs";
    std::fs::rename(
        fixture.dir.join("migrations").join(PEOPLE),
        fixture.dir.join("migrations").join(renamed),
    )
    .expect("renames");
    write(&fixture, "20241023_0900_cccc00000003_add_tags_table.rs", &tags(B));
    verdicts(&fixture, None, "");
    remove(&fixture, renamed);
    write(&fixture, PEOPLE, &people());
    remove(&fixture, "20241023_0900_cccc00000003_add_tags_table.rs");
    write(&fixture, NOTES, &notes());

    // What it runs: a name, the included SQL, an argument.
    let changed = "migration `add_notes_table` is sealed as deployed (`migrations/seal.lock` line 7), and its meaning changed since";
    for (file, text) in [
        (NOTES, notes().replace("\"body\"", "\"text\"")),
        (WELCOME, WELCOME_SQL.replace("Welcome", "Hello")),
        (
            NOTES,
            notes().replace(
                &format!("down_revision = \"{A}\""),
                &format!("down_revision = \"{A}\", transactional = false"),
            ),
        ),
    ] {
        write(&fixture, file, &text);
        verdicts(&fixture, Some("sealed_migration_changed"), changed);
        write(&fixture, NOTES, &notes());
        write(&fixture, WELCOME, WELCOME_SQL);
    }

    // Deleted.
    remove(&fixture, NOTES);
    verdicts(
        &fixture,
        Some("sealed_migration_deleted"),
        &format!(
            "sealed migration `{B}` (`{NOTES}`, `migrations/seal.lock` line 7) is no longer in the migrations folder"
        ),
    );

    // A new migration slipped in before it.
    write(
        &fixture,
        NOTES,
        &notes().replace(&format!("down_revision = \"{A}\""), &format!("down_revision = \"{C}\"")),
    );
    write(&fixture, "20241023_0900_cccc00000003_add_tags_table.rs", &tags(A));
    verdicts(
        &fixture,
        Some("inserted_before_sealed"),
        &format!(
            "sealed migration `add_notes_table` now comes after `{C}`, which is not sealed: a new migration cannot go before a deployed one"
        ),
    );
    remove(&fixture, "20241023_0900_cccc00000003_add_tags_table.rs");
    write(&fixture, NOTES, &notes());

    // A copy dated before the sealed file: the copy is blamed, not the deployed file.
    let copy = "20241021_1000_bbbb00000002_add_comments_table.rs";
    write(&fixture, copy, &notes().replace("mod add_notes_table", "mod add_comments_table"));
    verdicts(
        &fixture,
        Some("duplicate_revision"),
        &format!("revision `{B}` is already used by `migrations/{NOTES}`, which is sealed as deployed"),
    );
    let check = stdout(&fixture.run(&["check"]));
    assert!(check.contains(&format!("--> migrations/{copy}:2:")), "{check}");
    remove(&fixture, copy);

    // The seal merged by hand, or left with conflict markers.
    let seal_path = fixture.dir.join("migrations/seal.lock");
    let seal = std::fs::read_to_string(&seal_path).expect("reads");
    std::fs::write(&seal_path, seal.replacen(&format!("{B} {A} "), &format!("{B} {C} "), 1)).expect("writes");
    verdicts(
        &fixture,
        Some("unreadable_seal"),
        "`migrations/seal.lock` line 5 does not match the lines below it: the file was edited by hand or merged",
    );
    let (head, rest) = seal.split_once("seal 1 ").expect("the sum line");
    std::fs::write(&seal_path, format!("{head}<<<<<<< HEAD\nseal 1 {rest}=======\n>>>>>>> other\n"))
        .expect("writes");
    verdicts(
        &fixture,
        Some("unreadable_seal"),
        "`migrations/seal.lock` line 5 holds a git conflict marker: two branches sealed migrations",
    );
    std::fs::write(&seal_path, &seal).expect("writes");
    verdicts(&fixture, None, "");
}

#[test]
fn seal_accepts_only_what_it_is_told_and_refuses_a_broken_folder() {
    let fixture = sealed_crate("seal-accept");
    let again = fixture.run(&["seal"]);
    assert_eq!(stdout(&again), "nothing new to seal: 2 migrations sealed in migrations/seal.lock\n");
    let sealed = std::fs::read_to_string(fixture.dir.join("migrations/seal.lock")).expect("reads");

    // An edit: `seal` refuses without --accept, and writes nothing.
    write(&fixture, NOTES, &notes().replace("\"body\"", "\"text\""));
    let refused = fixture.run(&["seal"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(stdout(&refused).contains("error[sealed_migration_changed]"), "{}", stdout(&refused));
    assert_eq!(std::fs::read_to_string(fixture.dir.join("migrations/seal.lock")).expect("reads"), sealed);
    // --accept names the edited revision: naming another leaves the edit refused.
    let wrong = fixture.run(&["seal", "--accept", A]);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(stdout(&wrong).contains("error[sealed_migration_changed]"), "{}", stdout(&wrong));
    let accepted = fixture.run(&["seal", "--accept", B]);
    assert!(accepted.status.success(), "{}{}", stdout(&accepted), stderr(&accepted));
    assert_eq!(
        stdout(&accepted),
        "sealed 0 migrations, accepted the new meaning of 1 sealed migration: 2 sealed in migrations/seal.lock; commit it\n"
    );
    let resealed = std::fs::read_to_string(fixture.dir.join("migrations/seal.lock")).expect("reads");
    let differing: Vec<(&str, &str)> = sealed.lines().zip(resealed.lines()).filter(|(a, b)| a != b).collect();
    // The sum line and the line of the accepted migration, nothing else.
    assert_eq!(differing.len(), 2, "{differing:?}");
    assert!(differing[1].0.starts_with(B) && differing[1].1.starts_with(B), "{differing:?}");
    assert!(fixture.run(&["check"]).status.success());
    // Only a sealed migration whose meaning changed can be accepted.
    let unchanged = fixture.run(&["seal", "--accept", A]);
    assert_eq!(unchanged.status.code(), Some(3));
    assert!(
        stderr(&unchanged).contains(&format!("cannot accept `{A}`: its meaning is the one sealed")),
        "{}",
        stderr(&unchanged)
    );
    let unknown = fixture.run(&["seal", "--accept", C]);
    assert!(
        stderr(&unknown).contains(&format!("cannot accept `{C}`: it is not sealed")),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(std::fs::read_to_string(fixture.dir.join("migrations/seal.lock")).expect("reads"), resealed);

    // A problem the build would report: nothing is sealed.
    write(
        &fixture,
        "20241023_0900_cccc00000003_update_db.rs",
        &tags(B).replace("mod add_tags_table", "mod update_db"),
    );
    let refused = fixture.run(&["seal"]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(stdout(&refused).contains("error[vague_slug]"), "{}", stdout(&refused));
    assert_eq!(std::fs::read_to_string(fixture.dir.join("migrations/seal.lock")).expect("reads"), resealed);

    // --to seals a revision and its ancestors only.
    remove(&fixture, "20241023_0900_cccc00000003_update_db.rs");
    write(&fixture, "20241023_0900_cccc00000003_add_tags_table.rs", &tags(B));
    write(
        &fixture,
        "20241024_0900_dddd00000004_add_labels_table.rs",
        &tags(B).replace(C, "dddd00000004").replace(B, C).replace("tags", "labels"),
    );
    let to = fixture.run(&["seal", "--to", C]);
    assert_eq!(
        stdout(&to),
        "sealed 1 migration: 3 sealed in migrations/seal.lock; commit it\n",
        "{}",
        stderr(&to)
    );
}

/// `cargo migrate` with the database.
fn on(fixture: &Fixture, url: &str, args: &[&str]) -> Output {
    fixture.run(&[&["--database-url", url][..], args].concat())
}

#[test]
fn the_seal_and_the_runtime_judge_an_edit_alike() {
    let fixture = sealed_crate("seal-runtime");
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let upgrade = on(&fixture, url, &["upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    // The runtime's verdict on its own: without the seal, which the migrator's build checks too.
    let seal_path = fixture.dir.join("migrations/seal.lock");
    let aside = fixture.dir.join("seal.lock.aside");
    let runtime_accepts = |fixture: &Fixture| {
        std::fs::rename(&seal_path, &aside).expect("moves the seal aside");
        let run = on(fixture, url, &["upgrade", "head"]);
        std::fs::rename(&aside, &seal_path).expect("puts the seal back");
        match run.status.code() {
            Some(0) => true,
            Some(3) if stderr(&run).contains("ran with checksum") => false,
            _ => panic!("unexpected: {}{}", stdout(&run), stderr(&run)),
        }
    };
    let seal_accepts = |fixture: &Fixture| fixture.run(&["check"]).status.success();

    // Edits the seal lets through: the runtime runs them too.
    harmless_edits(&fixture);
    assert!(seal_accepts(&fixture));
    assert!(runtime_accepts(&fixture));

    // Edits the runtime refuses: the seal refused them first.
    for (file, text) in
        [(NOTES, notes().replace("\"body\"", "\"text\"")), (WELCOME, WELCOME_SQL.replace("Welcome", "Hello"))]
    {
        write(&fixture, NOTES, &notes());
        write(&fixture, WELCOME, WELCOME_SQL);
        write(&fixture, file, &text);
        assert!(!seal_accepts(&fixture), "{file}");
        assert!(!runtime_accepts(&fixture), "{file}");
    }

    // Stricter in one direction only: the same SQL written another way (a helper of the
    // module) changes the code the seal sums, not the SQL the runtime sums.
    write(&fixture, WELCOME, WELCOME_SQL);
    let helper = notes().replace(
        "        op.execute(include_str!(\"sql/welcome_note.sql\"));\n    }",
        "        welcome(op);\n    }\n\n    fn welcome(op: &mut Op) {\n        op.execute(include_str!(\"sql/welcome_note.sql\"));\n    }",
    );
    write(&fixture, NOTES, &helper);
    assert!(!seal_accepts(&fixture));
    assert!(runtime_accepts(&fixture));
    // The way out is named by the build, and taken on purpose.
    assert!(fixture.run(&["seal", "--accept", B]).status.success());
    assert!(seal_accepts(&fixture));
    // With the seal in place, the migrator's build checks it as any build does.
    write(&fixture, WELCOME, &WELCOME_SQL.replace("Welcome", "Hello"));
    let refused = on(&fixture, url, &["upgrade", "head"]);
    assert!(
        stderr(&refused).contains("error: migration `add_notes_table` is sealed as deployed"),
        "{}",
        stderr(&refused)
    );
}

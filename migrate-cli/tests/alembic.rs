//! `import --from alembic`, end to end with a real Alembic from PyPI and the Alembic project of
//! `tests/alembic` (a base, a branch point with three arms, one labelled `orgs`, one built
//! outside a transaction, one with an empty downgrade, a merge of the three, a second base
//! labelled `audit`, and a revision depending on it): the import keeps ids, graph and Alembic's
//! own SQL; a database Alembic migrated part way carries on with `cargo migrate` to the schema
//! Alembic builds, and goes back to empty. Then the refusals.
//!
//! Alembic is the one `common::alembic` finds or installs; without it the tests fail, they
//! never skip.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::alembic::{import, project, run_alembic, schema, version_rows};
use common::{Fixture, stderr, stdout, workspace};
use migrate_runtime::catalog::differences;
use migrate_runtime::testkit::TestDatabase;

/// Every file of the migrations folder, then the crate's settings: what the import wrote.
fn written(fixture: &Fixture) -> String {
    let mut text = String::new();
    for name in fixture.migrations() {
        text.push_str(&format!("===== {name}\n{}", fixture.read(&name)));
    }
    let manifest = std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads");
    let settings = manifest.split("[package.metadata.migrate]").nth(1).unwrap_or("(none)\n");
    text.push_str(&format!("===== Cargo.toml [package.metadata.migrate]{settings}"));
    text
}

#[test]
fn alembic_history_imports_builds_and_carries_on_from_alembics_rows() {
    let project = project("carry-on", &[]);
    let fixture = Fixture::new("alembic-carry-on", &[]);
    let imported = import(&fixture, &project, &[]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    insta::assert_snapshot!("alembic_import_summary", stdout(&imported));
    insta::assert_snapshot!("alembic_import_files", written(&fixture));

    // The crate builds as imported, and sees Alembic's graph.
    let build = fixture.cargo(&["build", "--quiet"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let heads = fixture.run(&["heads"]);
    assert!(stdout(&heads).contains("7081920314a5"), "{}", stdout(&heads));

    // Alembic migrates a database part way: three rows, one per arm it reached. (The arm left
    // to cargo migrate is the one Alembic's `upgrade heads` runs last, so that the columns
    // both add to `people` come in the same order.)
    let ours = TestDatabase::new().expect("a test database");
    for target in ["5e6f70819203", "0004.idx_email", "audit@head"] {
        run_alembic(&project, ours.url(), &["upgrade", target]);
    }
    assert_eq!(version_rows(ours.url()), ["0004.idx_email", "5e6f70819203", "a0c0ffee0001"]);

    // cargo migrate carries on from those rows, with no stamp.
    let upgrade = fixture.run(&["--database-url", ours.url(), "upgrade", "heads"]);
    assert!(upgrade.status.success(), "{}\n{}", stdout(&upgrade), stderr(&upgrade));
    assert!(stdout(&upgrade).contains(": 3 step(s)"), "{}", stdout(&upgrade));
    assert_eq!(version_rows(ours.url()), ["7081920314a5"]);

    // The same schema as Alembic upgrading a fresh database to its heads.
    let reference = TestDatabase::new().expect("a test database");
    run_alembic(&project, reference.url(), &["upgrade", "heads"]);
    assert_eq!(version_rows(reference.url()), ["7081920314a5"]);
    let (ours_schema, reference_schema) = (schema(ours.url()), schema(reference.url()));
    assert!(ours_schema.to_sql().contains("people_email"), "{}", ours_schema.to_sql());
    let changes = reference_schema.diff(&ours_schema);
    assert!(changes.is_empty(), "the schemas differ:\n{}", differences(&changes));

    // And back to nothing.
    let downgrade = fixture.run(&["--database-url", ours.url(), "downgrade", "base"]);
    assert!(downgrade.status.success(), "{}\n{}", stdout(&downgrade), stderr(&downgrade));
    assert!(version_rows(ours.url()).is_empty());
    let empty = TestDatabase::new().expect("a test database");
    let changes = schema(empty.url()).diff(&schema(ours.url()));
    assert!(changes.is_empty(), "downgrade base left:\n{}", differences(&changes));
    let _ = std::fs::remove_dir_all(project);
}

#[test]
fn alembics_offline_scripts_import_as_running_alembic_does() {
    let project = project("offline", &[]);
    let run = |args: &[&str]| stdout(&run_alembic(&project, "postgres://unused", args));
    let (up, down) = (project.join("up.sql"), project.join("down.sql"));
    std::fs::write(&up, run(&["upgrade", "base:heads", "--sql"])).expect("writes");
    std::fs::write(&down, run(&["downgrade", "heads:base", "--sql"])).expect("writes");

    let offline = Fixture::new("alembic-offline", &[]);
    let from_files = offline.run(&[
        "import",
        "--from",
        "alembic",
        project.join("versions").to_str().expect("UTF-8"),
        "--upgrade-sql",
        up.to_str().expect("UTF-8"),
        "--downgrade-sql",
        down.to_str().expect("UTF-8"),
    ]);
    assert!(from_files.status.success(), "{}", stderr(&from_files));
    let running = Fixture::new("alembic-running", &[]);
    let ran = import(&running, &project, &[]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(written(&offline), written(&running));
    let _ = std::fs::remove_dir_all(project);
}

#[test]
fn a_downgrade_alembic_cannot_render_becomes_irreversible_and_the_rest_stay() {
    let notes = std::fs::read_to_string(workspace().join("tests/alembic/versions/5e6f70819203_add_notes.py"))
        .expect("reads");
    let raising = notes.replace(
        "def downgrade() -> None:\n    pass",
        "def downgrade() -> None:\n    raise NotImplementedError(\"the notes are gone for good\")",
    );
    assert_ne!(raising, notes);
    let project = project("irreversible", &[("versions/5e6f70819203_add_notes.py", &raising)]);
    let fixture = Fixture::new("alembic-irreversible", &[]);
    let imported = import(&fixture, &project, &[]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("(1 outside a transaction, 1 without a downgrade)")
            && stdout(&imported).contains(
                "irreversible 5e6f70819203: Alembic could not produce its downgrade: NotImplementedError: the notes are gone for good"
            ),
        "{}",
        stdout(&imported)
    );
    let notes = fixture.read("20230403_1645_5e6f70819203_add_notes_to_people.rs");
    assert!(
        notes.contains(
            "op.irreversible(\"Alembic could not produce its downgrade: NotImplementedError: the notes are gone for good\");"
        ),
        "{notes}"
    );
    // The downgrades before and after it in Alembic's order are all there.
    let downs = fixture.migrations().into_iter().filter(|n| n.ends_with(".down.sql")).count();
    assert_eq!(downs, 6, "{:?}", fixture.migrations());
    let _ = std::fs::remove_dir_all(project);
}

/// Runs an import that must be refused, and checks it left the crate as it was.
fn refused(test: &str, edits: &[(&str, &str)], more: &[&str]) -> String {
    let project = project(test, edits);
    let fixture = Fixture::new(&format!("alembic-{test}"), &[]);
    let manifest = std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads");
    let output = import(&fixture, &project, more);
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
    assert!(fixture.migrations().is_empty(), "nothing written: {:?}", fixture.migrations());
    assert_eq!(std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads"), manifest);
    let _ = std::fs::remove_dir_all(project);
    stderr(&output)
}

#[test]
fn refusals_name_the_file_or_show_alembics_error_and_write_nothing() {
    // A revision id Alembic takes but no file name holds.
    let slash = "\"\"\"Slashed\"\"\"\nrevision = 'ab/cd'\ndown_revision = '7081920314a5'\n";
    let error = refused("slash", &[("versions/slash.py", slash)], &[]);
    assert!(
        error.contains("`versions/slash.py`: revision `ab/cd` cannot be part of a migration file name"),
        "{error}"
    );

    // A field the reader cannot read.
    let computed = "\"\"\"Computed\"\"\"\nrevision = 'x' + 'y'\ndown_revision = None\n";
    let error = refused("computed", &[("versions/computed.py", computed)], &[]);
    assert!(
        error.contains("cannot read the revision script `")
            && error.contains("computed.py`: line 2: `revision` is not a string"),
        "{error}"
    );

    // Alembic failing: its error is shown.
    let broken = "raise RuntimeError('env.py is broken on purpose')\n";
    let error = refused("env", &[("env.py", broken)], &[]);
    assert!(
        error.contains("Alembic failed: `alembic upgrade base:heads --sql`")
            && error.contains("RuntimeError: env.py is broken on purpose"),
        "{error}"
    );

    // No Alembic.
    let error = refused("missing", &[], &["--alembic", "/nonexistent/alembic"]);
    assert!(
        error.contains("cannot run `/nonexistent/alembic`") && error.contains("--upgrade-sql"),
        "{error}"
    );
}

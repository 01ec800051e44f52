//! A real history nobody here wrote: crates.io's 285 Diesel migrations (`corpus/crates-io`),
//! imported, built with no hand edits, applied to a fresh database and compared with the same
//! files applied by psql in Diesel's order (the two compared through the schema model, and by
//! pg_dump), then
//! checked by the stairway, whose findings are
//! pinned one by one.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Fixture, dump_schema, pg_program, stderr, stdout, workspace};
use migrate_runtime::catalog::{Key, Kind, Options, Schema, differences};
use migrate_runtime::testkit::{self, TestDatabase};

fn corpus() -> PathBuf {
    workspace().join("corpus").join("crates-io").join("migrations")
}

/// Diesel's order, computed here independently of the importer: the migration folders sorted
/// by version, the part of the name before the first `_` without its dashes.
fn diesel_order(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .expect("reads the corpus")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap_or_default().replace('-', "");
            (version, e.path())
        })
        .collect();
    folders.sort();
    folders.into_iter().map(|(_, path)| path).collect()
}

/// The schema of database `url` through the project's schema model, the runner's tables left
/// out.
fn schema(url: &str) -> Schema {
    let mut client = testkit::client(url).expect("connects");
    let runner = migrate_runtime::TableNames::default();
    Schema::read(&mut client, &Options::new().ignore_runner_tables(&runner)).expect("reads the catalog")
}

#[test]
fn crates_io_history_imports_builds_replays_and_names_its_broken_downgrades() {
    let fixture = Fixture::new("crates-io", &[]);
    let corpus = corpus();
    let import = fixture.run(&["import", "--from", "diesel", corpus.to_str().expect("a UTF-8 path")]);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(
        stdout(&import).starts_with(
            "imported 285 migrations into migrations (7 outside a transaction, 0 without a downgrade)"
        ),
        "{}",
        stdout(&import)
    );
    assert!(
        stdout(&import).contains("skipped data_oauth_github.sql (not a migration folder)"),
        "{}",
        stdout(&import)
    );

    // The crate builds as imported: the style rules are lifted by start_after, nothing else.
    let build = fixture.cargo(&["build", "--quiet"]);
    assert!(build.status.success(), "{}", stderr(&build));

    // Our run from empty to head.
    let ours = TestDatabase::new().expect("a test database");
    let upgrade = fixture.run(&["--database-url", ours.url(), "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    assert!(stdout(&upgrade).contains(": 285 step(s)"), "{}", stdout(&upgrade));

    // The same files applied by psql in Diesel's order, as Diesel applies them: each in one
    // transaction unless its metadata.toml says run_in_transaction = false.
    let reference = TestDatabase::new().expect("a test database");
    let psql = pg_program("psql");
    let folders = diesel_order(&corpus);
    assert_eq!(folders.len(), 285);
    for folder in &folders {
        let mut command = Command::new(&psql);
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", reference.url()]);
        if !folder.join("metadata.toml").is_file() {
            command.arg("-1");
        }
        let output = command.arg("-f").arg(folder.join("up.sql")).output().expect("runs psql");
        assert!(output.status.success(), "{}: {}", folder.display(), stderr(&output));
    }
    let (ours_schema, reference_schema) = (schema(ours.url()), schema(reference.url()));
    let crates = Key::new(Kind::Table, "public", None, "crates");
    assert!(ours_schema.get(&crates).is_some(), "{}", ours_schema.to_sql());
    let changes = reference_schema.diff(&ours_schema);
    assert!(changes.is_empty(), "the schemas differ:\n{}", differences(&changes));
    assert!(
        dump_schema(ours.url(), &["public.alembic_version", "public.migrate_history"])
            == dump_schema(reference.url(), &[]),
        "pg_dump sees the schemas differ"
    );

    // The stairway over the whole history: every broken downgrade named, with the reason.
    let server = testkit::server().expect("the test server").url("postgres");
    let stairway =
        fixture.command(&["test"]).env("DATABASE_URL", server).output().expect("runs cargo migrate test");
    assert_eq!(stairway.status.code(), Some(1), "{}", stderr(&stairway));
    insta::assert_snapshot!("crates_io_stairway", stdout(&stairway));
}

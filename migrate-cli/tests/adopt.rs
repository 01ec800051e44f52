//! `cargo migrate adopt` end to end: a database Diesel migrated part of the way, its history
//! imported, is refused by `upgrade` until adopted, then goes on from where Diesel stopped.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{Fixture, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

/// The Diesel history: a table, its rename (a stray `people` would betray a second run of the
/// first migration), and a table referencing it.
const DIESEL: &[(&str, &str, &str)] = &[
    (
        "2024-01-01-000000_create_people",
        "CREATE TABLE people (id int PRIMARY KEY, name text);\n",
        "DROP TABLE people;\n",
    ),
    (
        "2024-01-02-000000_rename_people",
        "ALTER TABLE people RENAME TO users;\n",
        "ALTER TABLE users RENAME TO people;\n",
    ),
    (
        "2024-01-03-000000_create_posts",
        "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users);\n",
        "DROP TABLE posts;\n",
    ),
];

/// The Diesel folder, written under a fresh folder; returns it.
fn diesel_folder() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-cli-adopt-diesel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, up, down) in DIESEL {
        std::fs::create_dir_all(dir.join(name)).expect("creates");
        std::fs::write(dir.join(name).join("up.sql"), up).expect("writes");
        std::fs::write(dir.join(name).join("down.sql"), down).expect("writes");
    }
    dir
}

/// A database Diesel migrated through `versions` of [`DIESEL`] (by index, in any order), as
/// Diesel does: each `up.sql` run, its version recorded (without dashes) in its table.
fn diesel_database(versions: &[usize]) -> TestDatabase {
    let database = TestDatabase::new().expect("a test database");
    let mut client = database.connect().expect("connects");
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        )
        .expect("creates Diesel's table");
    for &i in versions {
        let (name, up, _) = DIESEL[i];
        client.batch_execute(up).expect("runs up.sql");
        let version = name.split('_').next().expect("a version").replace('-', "");
        client
            .execute("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)", &[&version])
            .expect("records it");
    }
    database
}

/// Recorded versions only, no schema: for the refusals, which look at the table alone.
fn diesel_rows(versions: &[&str]) -> TestDatabase {
    let database = diesel_database(&[]);
    let mut client = database.connect().expect("connects");
    for version in versions {
        client
            .execute("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)", &[version])
            .expect("records it");
    }
    database
}

fn query(database: &TestDatabase, sql: &str) -> Vec<String> {
    let mut client = database.connect().expect("connects");
    client.query(sql, &[]).expect("queries").iter().map(|row| row.get::<_, String>(0)).collect()
}

fn exists(database: &TestDatabase, table: &str) -> bool {
    query(database, &format!("SELECT (to_regclass('{table}') IS NOT NULL)::text")) == ["true"]
}

/// The revisions of `migrations/imported.toml`, in its order.
fn imported_revisions(fixture: &Fixture) -> Vec<(String, String)> {
    fixture
        .read("imported.toml")
        .lines()
        .filter_map(|line| line.split_once(" = "))
        .filter(|(key, _)| key.starts_with('"'))
        .map(|(version, rev)| (version.trim_matches('"').to_owned(), rev.trim_matches('"').to_owned()))
        .collect()
}

#[test]
fn a_diesel_database_is_refused_until_adopted_then_goes_on_from_where_diesel_stopped() {
    let source = diesel_folder();
    let fixture = Fixture::new("adopt", &[]);
    let import = fixture.run(&["import", "--from", "diesel", source.to_str().expect("UTF-8")]);
    assert!(import.status.success(), "{}", stderr(&import));
    let imported = imported_revisions(&fixture);
    let versions: Vec<&str> = imported.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(versions, ["20240101000000", "20240102000000", "20240103000000"]);
    assert!(fixture.read("imported.toml").contains("tool = \"diesel\"\n"));
    // The build accepts the file in the migrations folder.
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));

    let database = diesel_database(&[0, 1]);
    let url = database.url();
    let refused = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(
        said.contains(
            "error: the database has no version table public.alembic_version but already has the Diesel table \
             public.__diesel_schema_migrations and 1 object no migration recorded (table public.users): applying from \
             the first migration would run again what is already there\n= help: if the migrations were imported from \
             Diesel (`cargo migrate import`), run `cargo migrate adopt`"
        ),
        "{said}"
    );
    assert!(!said.contains(url), "the URL is never shown");
    assert!(!exists(&database, "alembic_version") && !exists(&database, "migrate_history"));
    assert!(!exists(&database, "people"), "the first migration did not run again");

    let adopt = fixture.run(&["--database-url", url, "adopt"]);
    assert!(adopt.status.success(), "{}", stderr(&adopt));
    let (second, second_rev) = &imported[1];
    assert_eq!(second, "20240102000000");
    let out = stdout(&adopt);
    assert!(
        out.starts_with(&format!(
            "Diesel applied 2 of the 3 imported migrations, the last being version 20240102000000 (revision \
             {second_rev}, migrations/20240102_0000_{second_rev}_rename_people.rs): stamping {second_rev}\n"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("database at {second_rev}: 0 step(s)")), "{out}");
    assert!(!out.contains(url) && !stderr(&adopt).contains(url), "the URL is never shown");
    assert_eq!(query(&database, "SELECT version_num::text FROM alembic_version"), [second_rev.as_str()]);

    let upgrade = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    let third_rev = &imported[2].1;
    let steps: Vec<String> =
        stderr(&upgrade).lines().map(|l| l.trim().to_owned()).filter(|l| l.starts_with("upgrade ")).collect();
    assert_eq!(steps.len(), 1, "only the migration Diesel did not apply: {steps:?}");
    assert!(steps[0].starts_with(&format!("upgrade {third_rev} create_posts")), "{steps:?}");
    assert_eq!(query(&database, "SELECT version_num::text FROM alembic_version"), [third_rev.as_str()]);
    assert!(exists(&database, "posts") && exists(&database, "users") && !exists(&database, "people"));

    // Adopted once: a second adopt is refused, naming the rows.
    let again = fixture.run(&["--database-url", url, "adopt"]);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stderr(&again).contains(&format!("error: the database already has version rows ({third_rev})")),
        "{}",
        stderr(&again)
    );

    // What adopt refuses: a version the import does not have, a gap; nothing is stamped.
    let unknown = diesel_rows(&["20240101000000", "20990101000000"]);
    let refused = fixture.run(&["--database-url", unknown.url(), "adopt"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains(
            "error: Diesel applied a version that no imported migration has: 20990101000000; the database ran a \
             history the import does not hold\n= help: import the Diesel folder deployed to this database"
        ),
        "{}",
        stderr(&refused)
    );
    assert!(!exists(&unknown, "alembic_version"));

    let gap = diesel_rows(&["20240101000000", "20240103000000"]);
    let refused = fixture.run(&["--database-url", gap.url(), "adopt"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains(&format!(
            "error: Diesel never applied 20240102000000 (revision {second_rev}, \
             migrations/20240102_0000_{second_rev}_rename_people.rs), which comes before its last applied version \
             20240103000000: stamping {third_rev} would mark it applied"
        )),
        "{}",
        stderr(&refused)
    );
    assert!(!exists(&gap, "alembic_version"));

    // Nothing applied: nothing stamped, and the way to start from base said.
    let empty = diesel_rows(&[]);
    let nothing = fixture.run(&["--database-url", empty.url(), "adopt"]);
    assert!(nothing.status.success(), "{}", stderr(&nothing));
    assert!(
        stdout(&nothing).starts_with("Diesel applied none of the 3 imported migrations here"),
        "{}",
        stdout(&nothing)
    );
    assert!(!exists(&empty, "alembic_version"));
    let _ = std::fs::remove_dir_all(source);
}

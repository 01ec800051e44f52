//! Attacks on `cargo migrate adopt` from outside: sqlx's failed rows, refinery, a mapping file
//! edited by hand, Diesel versions with dashes and odd characters, the old tool's table in
//! another schema, and a database URL whose password must never be printed.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Fixture, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("adopt-attacks-source-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creates");
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("creates");
    std::fs::write(path, text).expect("writes");
}

fn execute(database: &TestDatabase, sql: &str) {
    database.connect().expect("connects").batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn query(database: &TestDatabase, sql: &str) -> Vec<String> {
    let mut client = database.connect().expect("connects");
    client.query(sql, &[]).expect("queries").iter().map(|row| row.get::<_, String>(0)).collect()
}

fn has_version_table(database: &TestDatabase) -> bool {
    query(database, "SELECT (to_regclass('public.alembic_version') IS NOT NULL)::text") == ["true"]
}

/// The versions of `imported.toml` with their revisions, read back as TOML.
fn mapping(fixture: &Fixture) -> Vec<(String, String)> {
    let table: toml::Table = fixture.read("imported.toml").parse().expect("imported.toml is TOML");
    let versions = table.get("versions").and_then(toml::Value::as_table).expect("[versions]");
    versions.iter().map(|(v, r)| (v.clone(), r.as_str().expect("a string").to_owned())).collect()
}

fn imported(fixture: &Fixture, tool: &str, source: &Path) {
    let import = fixture.run(&["import", "--from", tool, source.to_str().expect("UTF-8")]);
    assert!(import.status.success(), "{}{}", stdout(&import), stderr(&import));
}

fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(output), stderr(output));
    stderr(output)
}

#[test]
fn sqlx_failed_row_is_refused_and_a_good_history_stamps() {
    let source = folder("sqlx");
    write(&source.join("1_create_people.up.sql"), "CREATE TABLE people (id int);\n");
    write(&source.join("1_create_people.down.sql"), "DROP TABLE people;\n");
    write(&source.join("2_create_posts.up.sql"), "CREATE TABLE posts (id int);\n");
    write(&source.join("2_create_posts.down.sql"), "DROP TABLE posts;\n");
    let fixture = Fixture::new("adopt-attacks-sqlx", &[]);
    imported(&fixture, "sqlx", &source);
    let table = "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, \
                 execution_time BIGINT NOT NULL)";
    let database = TestDatabase::new().expect("a test database");
    execute(
        &database,
        &format!(
            "{table}; CREATE TABLE people (id int);
             INSERT INTO _sqlx_migrations VALUES (1, 'create people', now(), true, '\\x00', 1),
                                                 (2, 'create posts', now(), false, '\\x00', 1)"
        ),
    );
    let said = refused(&fixture.run(&["--database-url", database.url(), "adopt"]));
    assert!(said.contains("error: sqlx recorded version 2 as failed in `"), "{said}");
    assert!(!has_version_table(&database), "nothing stamped");
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn refinery_and_an_old_table_in_another_schema_are_adopted() {
    let source = folder("refinery");
    write(&source.join("V1__create_people.sql"), "CREATE TABLE people (id int);\n");
    write(&source.join("V2__create_posts.sql"), "CREATE TABLE posts (id int);\n");
    write(&source.join("V3__create_tags.sql"), "CREATE TABLE tags (id int);\n");
    let fixture = Fixture::new("adopt-attacks-refinery", &[]);
    imported(&fixture, "refinery", &source);
    let revs = mapping(&fixture);
    assert_eq!(revs.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    // refinery run with its table kept in a schema of its own (search_path set on the role).
    let database = TestDatabase::new().expect("a test database");
    execute(
        &database,
        "CREATE SCHEMA legacy;
         CREATE TABLE legacy.refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255),
             applied_on VARCHAR(255), checksum VARCHAR(255));
         INSERT INTO legacy.refinery_schema_history VALUES (1, 'create_people', '', '1'), (2, 'create_posts', '', '2');
         CREATE TABLE people (id int); CREATE TABLE posts (id int)",
    );
    // upgrade sees the table in its schema and sends the user to adopt ...
    let upgrade = refused(&fixture.run(&["--database-url", database.url(), "upgrade", "head"]));
    assert!(upgrade.contains("the refinery table legacy.refinery_schema_history"), "{upgrade}");
    assert!(upgrade.contains("run `cargo migrate adopt`"), "{upgrade}");
    // ... so adopt must find it there too, not say refinery applied nothing.
    let adopt = fixture.run(&["--database-url", database.url(), "adopt"]);
    assert!(adopt.status.success(), "{}{}", stdout(&adopt), stderr(&adopt));
    assert!(
        stdout(&adopt).starts_with("refinery applied 2 of the 3 imported migrations"),
        "{}",
        stdout(&adopt)
    );
    assert_eq!(query(&database, "SELECT version_num::text FROM alembic_version"), [revs[1].1.clone()]);
    // The same table in two schemas: which one is the history is not guessed.
    let twice = TestDatabase::new().expect("a test database");
    execute(
        &twice,
        "CREATE SCHEMA legacy;
         CREATE TABLE legacy.refinery_schema_history (version INT4 PRIMARY KEY);
         CREATE TABLE public.refinery_schema_history (version INT4 PRIMARY KEY);
         INSERT INTO legacy.refinery_schema_history VALUES (1)",
    );
    let said = refused(&fixture.run(&["--database-url", twice.url(), "adopt"]));
    assert!(
        said.contains("legacy.refinery_schema_history") && said.contains("public.refinery_schema_history"),
        "{said}"
    );
    assert!(!has_version_table(&twice), "nothing stamped");
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn diesel_versions_with_dashes_and_quotes_survive_the_mapping() {
    let source = folder("diesel");
    for (name, table) in [
        ("2025-11-19-091444-0000_create_people", "people"),
        // A version the import keeps whole, quote and backslash included: the mapping must
        // still be TOML, with this one version and no other key.
        ("2025-11-20-000000\"x\\y_create_posts", "posts"),
    ] {
        write(&source.join(name).join("up.sql"), &format!("CREATE TABLE {table} (id int);\n"));
        write(&source.join(name).join("down.sql"), &format!("DROP TABLE {table};\n"));
    }
    let fixture = Fixture::new("adopt-attacks-diesel", &[]);
    imported(&fixture, "diesel", &source);
    let revs = mapping(&fixture);
    let versions: Vec<&str> = revs.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(versions, ["202511190914440000", "20251120000000\"x\\y"]);
    let database = TestDatabase::new().expect("a test database");
    execute(
        &database,
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO __diesel_schema_migrations (version) VALUES ('202511190914440000'), ('20251120000000\"x\\y');
         CREATE TABLE people (id int); CREATE TABLE posts (id int)",
    );
    let adopt = fixture.run(&["--database-url", database.url(), "adopt"]);
    assert!(adopt.status.success(), "{}{}", stdout(&adopt), stderr(&adopt));
    assert_eq!(query(&database, "SELECT version_num::text FROM alembic_version"), [revs[1].1.clone()]);
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn a_mapping_edited_by_hand_is_refused_before_the_database_is_touched() {
    let source = folder("hand");
    for name in
        ["2024-01-01-000000_create_people", "2024-01-02-000000_create_posts", "2024-01-03-000000_create_tags"]
    {
        write(&source.join(name).join("up.sql"), "SELECT 1;\n");
        write(&source.join(name).join("down.sql"), "SELECT 1;\n");
    }
    let fixture = Fixture::new("adopt-attacks-hand", &[]);
    imported(&fixture, "diesel", &source);
    let revs = mapping(&fixture);
    let path = fixture.dir.join("migrations/imported.toml");
    let original = std::fs::read_to_string(&path).expect("reads");
    let database = TestDatabase::new().expect("a test database");
    execute(
        &database,
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL);
         INSERT INTO __diesel_schema_migrations VALUES ('20240101000000')",
    );
    let (r1, r2, r3) = (&revs[0].1, &revs[1].1, &revs[2].1);
    let cases: Vec<(String, &str)> = vec![
        (
            original.replace("tool = \"diesel\"", "tool = \"flyway\""),
            "names no tool whose database can be adopted",
        ),
        (original.replace("tool = \"diesel\"", "tool = \"diesel\"\ntool = \"sqlx\""), "is not valid TOML"),
        (format!("{original}\"20240101000000\" = \"{r2}\"\n"), "is not valid TOML"),
        (
            original.replace("[versions]", "[versions]\n\"20240101000000\\\"\" = \"x\""),
            "which no migration file has",
        ),
        // Versions swapped: the tool's order and the migrations' disagree.
        (
            original
                .replace(&format!("= \"{r1}\""), "= \"SWAP\"")
                .replace(&format!("= \"{r2}\""), &format!("= \"{r1}\""))
                .replace("= \"SWAP\"", &format!("= \"{r2}\"")),
            "order",
        ),
        // One revision for two versions.
        (original.replace(&format!("= \"{r3}\""), &format!("= \"{r2}\"")), "twice"),
    ];
    for (text, expected) in cases {
        std::fs::write(&path, &text).expect("writes");
        let said = refused(&fixture.run(&["--database-url", database.url(), "adopt"]));
        assert!(said.contains("migrations/imported.toml") && said.contains(expected), "{text}\n---\n{said}");
        assert!(!has_version_table(&database), "nothing stamped: {text}");
    }
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn a_password_in_the_url_is_never_printed() {
    let source = folder("password");
    write(&source.join("2024-01-01-000000_create_people/up.sql"), "SELECT 1;\n");
    let fixture = Fixture::new("adopt-attacks-password", &[]);
    imported(&fixture, "diesel", &source);
    let database = TestDatabase::new().expect("a test database");
    let secret = "Hunter2Secret";
    // A server that is not there, a wrong password, a database that does not exist.
    let mut urls = vec![format!("postgres://someone:{secret}@127.0.0.1:1/nowhere")];
    if let Some(rest) = database.url().strip_prefix("postgres://")
        && let Some((_, host)) = rest.split_once('@')
    {
        urls.push(format!("postgres://postgres:{secret}@{host}"));
        urls.push(format!(
            "postgresql://nobody:{secret}@{}",
            host.replace(database.url().rsplit('/').next().unwrap_or(""), "no_such_db")
        ));
    }
    for url in &urls {
        for args in [
            vec!["--database-url", url.as_str(), "adopt"],
            vec!["--database-url", url.as_str(), "upgrade", "head"],
        ] {
            let output = fixture.run(&args);
            let (out, err) = (stdout(&output), stderr(&output));
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{args:?} printed the password: {out}{err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(source);
}

//! `check --db`'s drift gate and the committed schema file, over fixture crates and real
//! PostgreSQL: the database's schema against what its revisions build, and `schema.sql`
//! against what the head builds.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fixture, migration, stderr, stdout};
use migrate_runtime::testkit::{self, TestDatabase};

const A: &str = "aaaa00000011";
const B: &str = "bbbb00000012";
const C: &str = "cccc00000013";

fn people() -> (String, String) {
    migration(
        "20241021_0900",
        A,
        None,
        "add_people_table",
        "op.create_table(\"people\", |t| {\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n            t.column(\"name\", Type::Text);\n            t.column(\"email\", Type::Text);\n        });\n        op.execute(\"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$\");\n        op.execute(\"CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch()\");",
        "op.drop_table(\"people\");\n        op.execute(\"DROP FUNCTION touch()\");",
    )
}

fn notes() -> (String, String) {
    migration(
        "20241022_0900",
        B,
        Some(A),
        "add_notes_table",
        "op.create_table(\"notes\", |t| {\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        });",
        "op.drop_table(\"notes\");",
    )
}

fn tags() -> (String, String) {
    migration(
        "20241023_0900",
        C,
        Some(B),
        "add_tags_table",
        "op.create_table(\"tags\", |t| {\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        });",
        "op.drop_table(\"tags\");",
    )
}

#[test]
fn check_db_names_what_changed_outside_migrations() {
    let fixture = Fixture::new("drift", &[people(), notes()]);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let upgrade = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));

    // At the head, as the migrations built it: no drift.
    let clean = fixture.run(&["--database-url", url, "check", "--db"]);
    assert_eq!(clean.status.code(), Some(0), "{}{}", stdout(&clean), stderr(&clean));
    assert!(stdout(&clean).contains(&format!("the database is at its head ({B})")), "{}", stdout(&clean));
    assert!(stdout(&clean).contains("no drift"), "{}", stdout(&clean));
    let json = fixture.run(&["--database-url", url, "--json", "check", "--db"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(value["drift"], serde_json::json!([]), "{}", stdout(&json));

    // Changed by hand: an index added, a default changed, a trigger and a column dropped.
    let mut client = testkit::client(url).expect("connects");
    client
        .batch_execute(
            "CREATE INDEX people_name ON people (name);
             ALTER TABLE people ALTER COLUMN name SET DEFAULT 'anonymous';
             DROP TRIGGER people_touch ON people;
             ALTER TABLE people DROP COLUMN email;",
        )
        .expect("changes the schema");
    let drift = fixture.run(&["--database-url", url, "check", "--db"]);
    let text = stdout(&drift);
    assert_eq!(drift.status.code(), Some(1), "{text}{}", stderr(&drift));
    assert!(text.contains(&format!("the database is at its head ({B})")), "{text}");
    assert!(
        text.contains(&format!("the database's schema differs from what its revision(s) {B} build:")),
        "{text}"
    );
    for line in [
        "+ index `people_name` on `public.people`",
        "~ column `name` of `public.people`: default (none) → 'anonymous'::text",
        "- trigger `people_touch` on `public.people`",
        "- column `email` of `public.people`",
        "(+ added outside migrations, - dropped outside migrations, ~ changed: built → found; owners and privileges are not compared)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
    }
    let json = fixture.run(&["--database-url", url, "--json", "check", "--db"]);
    assert_eq!(json.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    let lines = value["drift"].as_array().expect("a drift array");
    assert_eq!(lines.len(), 4, "{}", stdout(&json));
    assert!(
        lines.contains(&serde_json::json!("+ index `people_name` on `public.people`")),
        "{}",
        stdout(&json)
    );

    // The replay runs on the dev server it is given, never on the checked database: a replay
    // there would have built what the database holds, and found no drift.
    let dev = testkit::server().expect("the test server").url("postgres");
    let on_dev = fixture.run(&["--database-url", url, "check", "--db", "--dev-url", &dev]);
    assert_eq!(on_dev.status.code(), Some(1), "{}", stderr(&on_dev));
    assert_eq!(stdout(&on_dev), text);
    let rows: Vec<String> = client
        .query("SELECT version_num FROM alembic_version", &[])
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default();
    assert_eq!(rows, [B], "the checked database is untouched");

    // A dev server that cannot be reached is an error that shows no password.
    let unreachable = fixture.run(&[
        "--database-url",
        url,
        "check",
        "--db",
        "--dev-url",
        "postgres://someone:Hush3dPa55word@127.0.0.1:1/postgres",
    ]);
    assert_eq!(unreachable.status.code(), Some(3), "{}", stderr(&unreachable));
    assert!(stderr(&unreachable).contains("cannot reach the dev server"), "{}", stderr(&unreachable));
    assert!(!stderr(&unreachable).contains("Hush3d"), "{}", stderr(&unreachable));
    assert!(!stdout(&unreachable).contains("Hush3d"));
}

#[test]
fn check_db_at_a_middle_revision_without_drift_is_not_at_heads_only() {
    let fixture = Fixture::new("drift-middle", &[people(), notes()]);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let upgrade = fixture.run(&["--database-url", url, "upgrade", A]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    let check = fixture.run(&["--database-url", url, "check", "--db"]);
    let text = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{text}{}", stderr(&check));
    assert!(text.contains(&format!("the database is at {A}, not at the head {B}")), "{text}");
    assert!(text.contains(&format!("its schema is what its revision(s) {A} build: no drift")), "{text}");
    assert!(!text.contains("differs"), "{text}");
}

#[test]
fn the_schema_file_is_written_and_checked() {
    let fixture = Fixture::new("schema-file", &[people(), notes()]);
    let write = fixture.run(&["schema"]);
    assert!(write.status.success(), "{}", stderr(&write));
    assert!(
        stdout(&write).starts_with(&format!("wrote `schema.sql`: the schema at head {B}")),
        "{}",
        stdout(&write)
    );
    let file = std::fs::read_to_string(fixture.dir.join("schema.sql")).expect("schema.sql");
    assert!(
        file.starts_with(
            "-- The schema the migrations build at their head, written by `cargo migrate schema`."
        ),
        "{file}"
    );
    assert!(file.contains("Do not edit it by hand"), "{file}");
    assert!(file.contains(&format!("\n-- head: {B}\n")), "{file}");
    assert!(file.contains("CREATE TABLE public.people ("), "{file}");
    assert!(file.contains("CREATE TRIGGER people_touch"), "{file}");

    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
    assert!(stdout(&check).contains("`schema.sql` is what the head builds"), "{}", stdout(&check));

    // A migration added without writing the file again: the check names the file and says
    // what it lacks.
    let (name, text) = tags();
    std::fs::write(fixture.dir.join("migrations").join(name), text).expect("writes");
    let stale = fixture.run(&["check"]);
    let out = stdout(&stale);
    assert_eq!(stale.status.code(), Some(1), "{out}{}", stderr(&stale));
    assert!(out.contains("error: the schema file `schema.sql` is stale"), "{out}");
    assert!(out.lines().any(|l| l == "+ table `public.tags`"), "{out}");
    assert!(out.lines().any(|l| l == format!("~ head: {B} → {C}")), "{out}");
    assert!(out.contains("= help: run `cargo migrate schema` and commit the file"), "{out}");
    // The database command alone says the same.
    let alone = fixture.run(&["schema", "--check"]);
    assert_eq!(alone.status.code(), Some(1), "{}", stderr(&alone));
    assert!(stdout(&alone).contains("+ table `public.tags`"), "{}", stdout(&alone));

    let again = fixture.run(&["schema"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));

    // The embedded command line prints it to stdout without --output.
    let migrator = fixture.migrator().expect("the migrator");
    let embedded = std::process::Command::new(&migrator).arg("schema").output().expect("runs");
    assert!(embedded.status.success(), "{}", stderr(&embedded));
    assert_eq!(
        stdout(&embedded),
        std::fs::read_to_string(fixture.dir.join("schema.sql")).expect("schema.sql")
    );
}

//! A deployment rolled back: two builds of the same crate, the second with two more
//! migrations. The second migrates the database; the first, which does not know those two,
//! refuses to go below them without being told, showing what it would run, then reverts them
//! with the downgrades the database stored, and goes on with its own.

// Tests panic on failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fixture, migration, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";
const D: &str = "dddd00000004";

fn release(test: &str, newer: bool) -> Fixture {
    let mut files = vec![
        migration(
            "20250101_0900",
            A,
            None,
            "add_people_table",
            "op.create_table(\"people\", |t| { t.column(\"id\", Type::BigInt).primary_key(); });",
            "op.drop_table(\"people\");",
        ),
        migration(
            "20250102_0900",
            B,
            Some(A),
            "add_email_to_people",
            "op.add_column(\"people\", \"email\", Type::Text);",
            "op.drop_column(\"people\", \"email\");",
        ),
    ];
    if newer {
        files.push(migration(
            "20250201_0900",
            C,
            Some(B),
            "add_notes_table",
            "op.create_table(\"notes\", |t| { t.column(\"body\", Type::Text); }); \
             op.execute(\"INSERT INTO notes VALUES ('from the newer release')\");",
            "op.drop_table(\"notes\");",
        ));
        files.push(migration(
            "20250202_0900",
            D,
            Some(C),
            "add_phone_to_people",
            "op.add_column(\"people\", \"phone\", Type::Text);",
            "op.lock_timeout(Duration::from_secs(3)); op.drop_column(\"people\", \"phone\");",
        ));
    }
    Fixture::new(test, &files)
}

fn query(url: &str, sql: &str) -> Vec<String> {
    let mut client = migrate_runtime::testkit::client(url).expect("connects");
    client.query(sql, &[]).expect("queries").iter().map(|row| row.get::<_, String>(0)).collect()
}

#[test]
fn an_older_build_reverts_what_a_newer_build_applied() {
    let newer = release("rollback-newer", true);
    let older = release("rollback-older", false);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();

    let applied = newer.run(&["upgrade", "head", "--database-url", url]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(query(url, "SELECT version_num::text FROM alembic_version"), [D]);

    // The older build refuses, and shows the SQL it would run, newest first.
    let refused = older.run(&["downgrade", "head", "--database-url", url]);
    let said = stderr(&refused);
    assert_eq!(refused.status.code(), Some(3), "{said}");
    let d = said.find(&format!("would revert {D} (add_phone_to_people)")).expect(&said);
    let c = said.find(&format!("would revert {C} (add_notes_table)")).expect(&said);
    assert!(d < c, "newest first: {said}");
    assert!(said.contains("ALTER TABLE \"people\" DROP COLUMN \"phone\";"), "{said}");
    assert!(said.contains("DROP TABLE \"notes\";"), "{said}");
    assert!(said.contains("--revert-newer"), "{said}");
    assert_eq!(query(url, "SELECT version_num::text FROM alembic_version"), [D], "nothing changed");

    // Told, it reverts them, then its own below its head when asked.
    let reverted = older.run(&["downgrade", "head", "--revert-newer", "--database-url", url]);
    assert!(reverted.status.success(), "{}", stderr(&reverted));
    assert!(
        stderr(&reverted).contains(&format!("reverting {D} (add_phone_to_people)")),
        "{}",
        stderr(&reverted)
    );
    assert_eq!(query(url, "SELECT version_num::text FROM alembic_version"), [B]);
    let columns = query(
        url,
        "SELECT string_agg(attname::text, ',' ORDER BY attnum) FROM pg_attribute \
         WHERE attrelid = 'people'::regclass AND attnum > 0 AND NOT attisdropped",
    );
    assert_eq!(columns, ["id,email"]);
    assert_eq!(query(url, "SELECT coalesce(to_regclass('notes')::text, 'gone')"), ["gone"]);
    let current = older.run(&["current", "--database-url", url]);
    assert!(stdout(&current).contains(B), "{}", stdout(&current));

    // The newer build, deployed again, applies its two again.
    let again = newer.run(&["upgrade", "head", "--database-url", url]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(query(url, "SELECT version_num::text FROM alembic_version"), [D]);
    let to_base = older.run(&["downgrade", "base", "--revert-newer", "--database-url", url]);
    assert!(to_base.status.success(), "{}", stderr(&to_base));
    assert_eq!(query(url, "SELECT count(*)::text FROM alembic_version"), ["0"]);
}

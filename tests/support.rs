//! What several test files share: a throwaway database, the rows of a query as text, and
//! migrations written in the test itself.
#![allow(dead_code, reason = "each test file uses part of it")]

use migrate_runtime::op::Op;
use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Body, Migration};

/// A database of the test kit's throwaway server; a test that cannot have one fails.
pub fn database() -> TestDatabase {
    TestDatabase::new().unwrap_or_else(|e| panic!("no test database: {e}"))
}

/// The rows of `query`, each as its text values joined by spaces (`NULL` for null).
pub fn rows(query: &str, database: &TestDatabase) -> Vec<String> {
    self::query(database.url(), query)
}

/// The rows of `sql` on the database `url` (a server of the test's own), as [`rows`] gives them.
pub fn query(url: &str, sql: &str) -> Vec<String> {
    migrate_runtime::testkit::client(url)
        .expect("connects")
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect()
}

/// Runs `sql` (one or more statements) on the database `url`.
pub fn execute(url: &str, sql: &str) {
    migrate_runtime::testkit::client(url)
        .expect("connects")
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A migration written in the test itself, not read from a folder: `upgrade` and `downgrade`
/// on `op`, after `parents`, named `slug` in `file`.
pub const fn migration(
    rev: &'static str,
    parents: &'static [&'static str],
    (slug, file): (&'static str, &'static str),
    transactional: bool,
    upgrade: fn(&mut Op),
    downgrade: fn(&mut Op),
) -> Migration {
    Migration {
        rev,
        parents,
        branch_labels: &[],
        depends_on: &[],
        slug,
        file,
        why: "",
        transactional,
        squashes: None,
        upgrade: Body::Code(upgrade),
        downgrade: Body::Code(downgrade),
    }
}

/// A migration written in the test itself whose bodies are literal SQL (`upgrade`, then
/// `downgrade`, a statement each), as the macro embeds such a body: [`migration`] otherwise.
pub const fn sql_migration(
    rev: &'static str,
    parents: &'static [&'static str],
    (slug, file): (&'static str, &'static str),
    transactional: bool,
    upgrade: &'static [&'static str],
    downgrade: &'static [&'static str],
) -> Migration {
    Migration {
        rev,
        parents,
        branch_labels: &[],
        depends_on: &[],
        slug,
        file,
        why: "",
        transactional,
        squashes: None,
        upgrade: Body::Sql(upgrade),
        downgrade: Body::Sql(downgrade),
    }
}

/// A body that records nothing.
pub fn nothing(_: &mut Op) {}

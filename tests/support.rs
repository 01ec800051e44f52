//! What several test files share: a throwaway database, and the rows of a query as text.
#![allow(dead_code, reason = "each test file uses part of it")]

use migrate_runtime::testkit::TestDatabase;

/// A database of the test kit's throwaway server; a test that cannot have one fails.
pub fn database() -> TestDatabase {
    TestDatabase::new().unwrap_or_else(|e| panic!("no test database: {e}"))
}

/// The rows of `query`, each as its text values joined by spaces (`NULL` for null).
pub fn rows(query: &str, database: &TestDatabase) -> Vec<String> {
    let mut client = database.connect().expect("connects");
    client
        .simple_query(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect()
}

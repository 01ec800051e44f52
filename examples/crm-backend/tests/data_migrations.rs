//! The guide's example 3 tested with data: a database just before the migration, rows seeded
//! as the interactions logged before the inbox workflow were, the migration applied and
//! reverted alone, the rows checked after each.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Migrator};

static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

/// `fix_interaction_statuses`: missing statuses become 'pending', then the column is NOT NULL.
const FIX_INTERACTION_STATUSES: &str = "e6d1a4b7c382";
/// The revision it grows from.
const PARENT: &str = "9b0c6e3f1d75";

/// Every interaction's body and status, in insertion order.
fn statuses(database: &TestDatabase) -> Vec<(String, Option<String>)> {
    let mut client = database.connect().expect("connects");
    client
        .query("SELECT body, status FROM interactions ORDER BY id", &[])
        .expect("reads the interactions")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Logs an interaction without a status; the database's error when it refuses.
fn log_without_status(database: &TestDatabase) -> Result<(), String> {
    let mut client = database.connect().expect("connects");
    client
        .batch_execute(
            "INSERT INTO interactions (organisation_id, type, body) SELECT id, 'call', 'unsorted' FROM organisations",
        )
        .map_err(|e| e.as_db_error().map_or_else(|| e.to_string(), |db| db.code().code().to_owned()))
}

fn expected(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs.iter().map(|(body, status)| ((*body).to_owned(), status.map(str::to_owned))).collect()
}

#[test]
fn missing_interaction_statuses_become_pending_and_stay_after_the_downgrade() {
    let migrator = Migrator::new(&MIGRATIONS);
    let database = TestDatabase::before(&migrator, FIX_INTERACTION_STATUSES).expect("a database before it");
    assert_eq!(migrator.current(database.url()).expect("reads"), [PARENT]);
    database
        .connect()
        .expect("connects")
        .batch_execute(
            "INSERT INTO organisations (name) VALUES ('Acme');
             INSERT INTO people (organisation_id, full_name, email)
                 SELECT id, 'Ada Lovelace', 'ada@acme.test' FROM organisations;
             INSERT INTO interactions (organisation_id, person_id, type, body, status)
                 SELECT o.id, p.id, v.type::interaction_type, v.body, v.status
                 FROM organisations o, people p,
                     (VALUES (1, 'call', 'first call', NULL),
                             (2, 'email', 'welcome pack', 'done'),
                             (3, 'meeting', 'demo', NULL),
                             (4, 'call', 'follow-up', 'in_progress'),
                             (5, 'email', 'quote', 'pending')) AS v(n, type, body, status)
                 ORDER BY v.n;",
        )
        .expect("seeds the rows");

    database.apply(&migrator, FIX_INTERACTION_STATUSES).expect("applies");
    let backfilled = expected(&[
        ("first call", Some("pending")),
        ("welcome pack", Some("done")),
        ("demo", Some("pending")),
        ("follow-up", Some("in_progress")),
        ("quote", Some("pending")),
    ]);
    assert_eq!(statuses(&database), backfilled);
    // 23502: not_null_violation.
    assert_eq!(log_without_status(&database), Err("23502".to_owned()));

    // The downgrade lifts the constraint; the backfilled statuses stay.
    database.revert(&migrator, FIX_INTERACTION_STATUSES).expect("reverts");
    assert_eq!(migrator.current(database.url()).expect("reads"), [PARENT]);
    assert_eq!(statuses(&database), backfilled);
    log_without_status(&database).expect("a missing status is accepted again");
}

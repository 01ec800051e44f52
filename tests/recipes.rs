//! The safe recipes of `migrate_core::op` against a real PostgreSQL (a throwaway cluster of the
//! machine's binaries, or `DATABASE_URL`'s server, with a fresh database per test): each runs
//! through the runner on a table that has rows and leaves what the catalog should show; then
//! each is attacked (a failing batch, a `NULL` left, duplicates) and run again as the runner
//! says to (`stamp` of where the database stands, then `upgrade`), and finishes.
//!
//! Each chain is two migrations built here: the first makes the table and its rows, in a
//! transaction; the second is the recipe, outside one, as its statements ask.

use migrate_runtime::op::Op;
use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migration, Migrator};

mod support;
use support::{database, nothing};

/// The first value of each row `query` returns, as text (`NULL` for null).
fn values(database: &TestDatabase, query: &str) -> Vec<String> {
    let mut client = database.connect().expect("connects");
    client
        .simple_query(query)
        .expect("queries")
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL").to_owned()),
            _ => None,
        })
        .collect()
}

/// The one value `query` returns.
fn value(database: &TestDatabase, query: &str) -> String {
    let values = values(database, query);
    assert_eq!(values.len(), 1, "{query}: {values:?}");
    values[0].clone()
}

fn execute(database: &TestDatabase, sql: &str) {
    database.connect().expect("connects").batch_execute(sql).expect("executes");
}

/// The setup step `rev`, making a table and its rows in a transaction.
const fn setup(rev: &'static str, upgrade: fn(&mut Op)) -> Migration {
    support::migration(rev, &[], ("setup", "setup.rs"), true, upgrade, nothing)
}

/// The recipe step `rev` after `parent`, outside a transaction.
const fn recipe(rev: &'static str, parents: &'static [&'static str], upgrade: fn(&mut Op)) -> Migration {
    support::migration(rev, parents, ("recipe", "recipe.rs"), false, upgrade, nothing)
}

/// Each recipe step is marked outside a transaction exactly when one of its statements says so.
fn marked_as_its_statements_say(chain: &Chain) {
    for migration in chain.iter() {
        let outside = migration.upgrade_ops().statements().iter().any(|s| s.no_transaction().is_some());
        assert_eq!(!migration.transactional, outside, "{}", migration.rev);
    }
}

/// The failure of a run that was expected to fail in the recipe step.
fn failure(result: Result<migrate_runtime::Report, Error>) -> Box<migrate_runtime::Failure> {
    match result {
        Err(Error::MigrationFailed(failure)) => failure,
        Err(other) => panic!("unexpected error: {}", other.report()),
        Ok(report) => panic!("the run succeeded: {report:?}"),
    }
}

/// Runs again after a failure outside a transaction, as the runner asks: it refuses while the
/// failure is not cleared, then `stamp` of the setup step clears it.
fn run_again(
    migrator: &Migrator,
    database: &TestDatabase,
    at: &str,
) -> Result<migrate_runtime::Report, Error> {
    let refused =
        migrator.upgrade(database.url(), "head").expect_err("a failed step outside a transaction is refused");
    assert!(matches!(refused, Error::Dirty(_)), "{}", refused.report());
    migrator.stamp(database.url(), &[at], false).expect("stamps");
    migrator.upgrade(database.url(), "head")
}

// --- A check constraint added NOT VALID, then validated ---

const CHECK_SETUP: &str = "c0000000000a";

fn scores(op: &mut Op) {
    op.execute("CREATE TABLE scores (id int, score int); INSERT INTO scores SELECT i, i % 100 FROM generate_series(1, 2000) i");
}

fn check_not_valid(op: &mut Op) {
    op.create_check_constraint("ck_scores_score", "scores", "score >= 0").not_valid();
}

fn check_validate(op: &mut Op) {
    op.validate_constraint("scores", "ck_scores_score");
}

static CHECK_A: Migration = setup(CHECK_SETUP, scores);
static CHECK_B: Migration =
    Migration { transactional: true, ..recipe("c0000000000b", &[CHECK_SETUP], check_not_valid) };
static CHECK_C: Migration =
    Migration { transactional: true, ..recipe("c0000000000c", &["c0000000000b"], check_validate) };
static CHECK: Chain = Chain::new(&[&CHECK_A, &CHECK_B, &CHECK_C]);

#[test]
fn a_check_added_not_valid_is_validated_later() {
    marked_as_its_statements_say(&CHECK);
    let db = database();
    let migrator = Migrator::new(&CHECK);
    migrator.upgrade(db.url(), "c0000000000b").expect("adds the check");
    let validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_scores_score'";
    assert_eq!(value(&db, validated), "f");
    // New rows are checked at once.
    let mut client = db.connect().expect("connects");
    assert!(client.batch_execute("INSERT INTO scores VALUES (0, -1)").is_err());
    migrator.upgrade(db.url(), "head").expect("validates");
    assert_eq!(value(&db, validated), "t");
}

// --- A unique constraint built concurrently, over duplicates then deduplicated ---

const UNIQUE_SETUP: &str = "d0000000000a";

fn people(op: &mut Op) {
    op.execute(
        "CREATE TABLE people (id int NOT NULL, email text);
         INSERT INTO people SELECT i, 'p' || i || '@example.com' FROM generate_series(1, 5000) i;
         INSERT INTO people VALUES (5001, 'p42@example.com')",
    );
}

fn unique_concurrently(op: &mut Op) {
    op.create_unique_constraint("uq_people_email", "people", &["email"]).concurrently();
}

static UNIQUE_A: Migration = setup(UNIQUE_SETUP, people);
static UNIQUE_B: Migration = recipe("d0000000000b", &[UNIQUE_SETUP], unique_concurrently);
static UNIQUE: Chain = Chain::new(&[&UNIQUE_A, &UNIQUE_B]);

const INVALID_INDEXES: &str =
    "SELECT count(*) FROM pg_index WHERE indrelid = 'people'::regclass AND NOT indisvalid";

#[test]
fn a_unique_constraint_over_duplicates_fails_cleans_up_and_succeeds_after_dedup() {
    marked_as_its_statements_say(&UNIQUE);
    let db = database();
    let migrator = Migrator::new(&UNIQUE);

    let failed = failure(migrator.upgrade(db.url(), "head"));
    assert_eq!(
        (failed.rev.as_str(), failed.statement_index, failed.code.as_deref()),
        ("d0000000000b", Some((0, 2)), Some("23505"))
    );
    // The concurrent build failed part-way: it left its index, INVALID.
    assert_eq!(value(&db, INVALID_INDEXES), "1");

    // Run again with the duplicates still there: the runner drops the INVALID index, so the
    // build runs again (and fails again on the duplicates) instead of `IF NOT EXISTS` keeping it.
    let failed = failure(run_again(&migrator, &db, UNIQUE_SETUP));
    assert_eq!((failed.statement_index, failed.code.as_deref()), (Some((0, 2)), Some("23505")));
    assert_eq!(value(&db, INVALID_INDEXES), "1", "one INVALID index, not two");

    execute(&db, "DELETE FROM people WHERE id = 5001");
    run_again(&migrator, &db, UNIQUE_SETUP).expect("succeeds after dedup");
    assert_eq!(value(&db, INVALID_INDEXES), "0");
    let constraint = value(
        &db,
        "SELECT c.contype::text || ' ' || i.relname || ' ' || x.indisvalid || ' ' || x.indisunique FROM pg_constraint c \
         JOIN pg_class i ON i.oid = c.conindid JOIN pg_index x ON x.indexrelid = c.conindid WHERE c.conname = 'uq_people_email'",
    );
    assert_eq!(constraint, "u uq_people_email true true");
    let mut client = db.connect().expect("connects");
    assert!(client.batch_execute("INSERT INTO people VALUES (6000, 'p1@example.com')").is_err());
}

// --- A primary key built concurrently ---

const KEY_SETUP: &str = "e0000000000a";

fn items(op: &mut Op) {
    op.execute("CREATE TABLE items (id bigint NOT NULL, label text); INSERT INTO items SELECT i, 'x' FROM generate_series(1, 5000) i");
}

fn primary_key_concurrently(op: &mut Op) {
    op.create_primary_key("items_pkey", "items", &["id"]).concurrently();
}

static KEY_A: Migration = setup(KEY_SETUP, items);
static KEY_B: Migration = recipe("e0000000000b", &[KEY_SETUP], primary_key_concurrently);
static KEY: Chain = Chain::new(&[&KEY_A, &KEY_B]);

#[test]
fn a_primary_key_built_concurrently() {
    marked_as_its_statements_say(&KEY);
    let db = database();
    let migrator = Migrator::new(&KEY);
    migrator.upgrade(db.url(), "head").expect("adds the primary key");
    let key = value(
        &db,
        "SELECT c.contype::text || ' ' || i.relname || ' ' || x.indisvalid || ' ' || x.indisprimary FROM pg_constraint c \
         JOIN pg_class i ON i.oid = c.conindid JOIN pg_index x ON x.indexrelid = c.conindid \
         WHERE c.conrelid = 'items'::regclass AND c.contype = 'p'",
    );
    assert_eq!(key, "p items_pkey true true");
}

// --- SET NOT NULL through a validated CHECK, failing at VALIDATE then run again ---

const NOT_NULL_SETUP: &str = "f0000000000a";

fn contacts(op: &mut Op) {
    op.execute(
        "CREATE TABLE contacts (id int, email text);
         INSERT INTO contacts SELECT i, CASE WHEN i = 1234 THEN NULL ELSE 'c' || i END FROM generate_series(1, 5000) i",
    );
}

fn not_null_through_check(op: &mut Op) {
    op.alter_column("contacts", "email").set_not_null_through_check();
}

static NOT_NULL_A: Migration = setup(NOT_NULL_SETUP, contacts);
static NOT_NULL_B: Migration = recipe("f0000000000b", &[NOT_NULL_SETUP], not_null_through_check);
static NOT_NULL: Chain = Chain::new(&[&NOT_NULL_A, &NOT_NULL_B]);

const HELPER: &str =
    "SELECT conname || ' ' || convalidated FROM pg_constraint WHERE conrelid = 'contacts'::regclass";
const NULLABILITY: &str =
    "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = 'email'";

#[test]
fn not_null_through_a_check_fails_on_a_null_and_succeeds_once_it_is_fixed() {
    marked_as_its_statements_say(&NOT_NULL);
    let db = database();
    let migrator = Migrator::new(&NOT_NULL);

    let failed = failure(migrator.upgrade(db.url(), "head"));
    assert_eq!(
        (failed.statement_index, failed.code.as_deref()),
        (Some((2, 5)), Some("23514")),
        "fails at VALIDATE"
    );
    // The statements before it committed: the helper stays, NOT VALID; the column is nullable.
    assert_eq!(values(&db, HELPER), ["contacts_email_not_null_check false"]);
    assert_eq!(value(&db, NULLABILITY), "f");

    execute(&db, "UPDATE contacts SET email = 'fixed' WHERE email IS NULL");
    run_again(&migrator, &db, NOT_NULL_SETUP).expect("succeeds once the NULL is fixed");
    assert_eq!(value(&db, NULLABILITY), "t");
    assert_eq!(values(&db, HELPER), Vec::<String>::new(), "the helper CHECK is gone");
    let mut client = db.connect().expect("connects");
    assert!(client.batch_execute("INSERT INTO contacts VALUES (0, NULL)").is_err());
}

// --- A backfill in batches, failing half-way then resumed ---

const BACKFILL_SETUP: &str = "a0000000000a";

fn readings(op: &mut Op) {
    // Every tenth row is done already (v = -1) and must stay untouched; row 255 cannot be
    // computed (d = 0), which fails the third batch.
    op.execute(
        "CREATE TABLE readings (id int, v int, d int NOT NULL DEFAULT 1, runs int NOT NULL DEFAULT 0);
         INSERT INTO readings (id, v, d) SELECT i, CASE WHEN i % 10 = 0 THEN -1 END, CASE WHEN i = 255 THEN 0 ELSE 1 END
         FROM generate_series(1, 1000) i",
    );
}

fn backfill(op: &mut Op) {
    op.backfill("readings", "v = 100 / d, runs = runs + 1", "v IS NULL").batch_size(100);
}

static BACKFILL_A: Migration = setup(BACKFILL_SETUP, readings);
static BACKFILL_B: Migration = recipe("a0000000000b", &[BACKFILL_SETUP], backfill);
static BACKFILL: Chain = Chain::new(&[&BACKFILL_A, &BACKFILL_B]);

/// How many rows were updated, and in how many transactions (one per batch).
const UPDATED: &str = "SELECT count(*) || ' rows in ' || count(DISTINCT xmin::text) || ' transactions' FROM readings WHERE runs > 0";

#[test]
fn a_backfill_interrupted_by_a_failing_batch_resumes_without_redoing_batches() {
    marked_as_its_statements_say(&BACKFILL);
    let db = database();
    let migrator = Migrator::new(&BACKFILL);

    let failed = failure(migrator.upgrade(db.url(), "head"));
    assert_eq!(
        (failed.statement_index, failed.code.as_deref()),
        (Some((0, 1)), Some("22012")),
        "division by zero"
    );
    // The two batches before the failing one committed; the third rolled back.
    assert_eq!(value(&db, UPDATED), "200 rows in 2 transactions");

    execute(&db, "UPDATE readings SET d = 1 WHERE id = 255");
    run_again(&migrator, &db, BACKFILL_SETUP).expect("finishes the rows left");
    // 900 rows matched: 200 before, 700 in seven more batches, none updated twice.
    assert_eq!(value(&db, UPDATED), "900 rows in 9 transactions");
    assert_eq!(value(&db, "SELECT count(*) FROM readings WHERE runs > 1 OR (v IS NULL)"), "0");
    assert_eq!(
        value(&db, "SELECT count(*) || ' ' || sum(runs) FROM readings WHERE v = -1"),
        "100 0",
        "untouched"
    );
    assert_eq!(value(&db, "SELECT count(*) FROM readings WHERE v = 100 AND runs = 1"), "900");
}

#[test]
fn a_backfill_refuses_to_run_in_a_transaction() {
    static IN_ONE: Migration =
        Migration { transactional: true, ..recipe("a0000000000b", &[BACKFILL_SETUP], backfill) };
    static CHAIN: Chain = Chain::new(&[&BACKFILL_A, &IN_ONE]);
    let db = database();
    let failed = failure(Migrator::new(&CHAIN).upgrade(db.url(), "head"));
    // PostgreSQL refuses the COMMIT in a transaction block, and nothing of the step remains.
    assert_eq!(failed.code.as_deref(), Some("2D000"), "{}", failed.message);
    assert_eq!(value(&db, "SELECT count(*) FROM readings WHERE runs > 0"), "0");
}

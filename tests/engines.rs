//! The engine profiles, on a real server answering as each engine does: a database whose
//! `version()` is shadowed by a function of its own (the search path puts `public` before
//! `pg_catalog`) answers as CockroachDB or YugabyteDB would, and the runner must follow that
//! engine's profile: the lock as a lease that only expires, every migration outside a
//! transaction, a run in one transaction refused. What runs is PostgreSQL's all the same, so
//! this tests the runner's side of each profile, not the engines.

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migration, Migrator};

mod support;
use support::{database, rows, sql_migration};

static FIRST: Migration = sql_migration(
    "e00000000001",
    &[],
    ("add_accounts_table", "engines.rs"),
    true,
    &["CREATE TABLE accounts (id bigint PRIMARY KEY)"],
    &["DROP TABLE accounts"],
);

/// Two statements, the second failing: inside a transaction nothing of it stays.
static HALF: Migration = sql_migration(
    "e00000000002",
    &["e00000000001"],
    ("add_half_table", "engines.rs"),
    true,
    &["CREATE TABLE half (id int)", "SELECT 1 / 0"],
    &["DROP TABLE half"],
);

static CHAIN: Chain = Chain::new(&[&FIRST, &HALF]);

const COCKROACH: &str = "CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu, built 2024/05/15 18:51:03, go1.22.2)";
const YUGABYTE: &str =
    "PostgreSQL 11.2-YB-2.21.0.1-b0 on x86_64-pc-linux-gnu, compiled by clang version 16.0.6, 64-bit";

/// A database answering `version()` with `answer`.
fn answering(answer: &str) -> TestDatabase {
    let db = database();
    let mut client = db.connect().expect("connects");
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" SET search_path = \"$user\", public, pg_catalog; \
             CREATE FUNCTION public.version() RETURNS text LANGUAGE sql AS $$ SELECT '{answer}'::text $$",
            name = db.name()
        ))
        .expect("shadows version()");
    // The function is an object no migration made: the database starts at base on purpose.
    Migrator::new(&CHAIN).stamp(db.url(), &["base"], false).expect("stamps base");
    db
}

#[test]
fn on_cockroachdb_and_yugabytedb_the_lock_is_a_lease_and_each_migration_runs_outside_a_transaction() {
    for answer in [COCKROACH, YUGABYTE] {
        let db = answering(answer);
        assert_eq!(rows("SELECT version()", &db), [answer], "the database answers as the engine");
        let migrator = Migrator::new(&CHAIN);
        migrator.upgrade(db.url(), "e00000000001").expect("the first migration runs");
        // The lock was a lease (its table made, the lease given back), not an advisory lock.
        assert_eq!(rows("SELECT count(*) FROM alembic_version_lease", &db), ["0"], "{answer}");
        // A migration whose second statement fails keeps its first: it ran outside a
        // transaction, and the next run is refused until the way out is taken.
        match migrator.upgrade(db.url(), "head") {
            Err(Error::MigrationFailed(_)) => {}
            other => panic!("{answer}: the failing migration did not fail: {other:?}"),
        }
        assert_eq!(
            rows("SELECT to_regclass('half') IS NOT NULL", &db),
            ["t"],
            "{answer}: it ran in a transaction"
        );
        match migrator.upgrade(db.url(), "head") {
            Err(Error::Dirty(_)) => {}
            other => panic!("{answer}: a half-applied migration was not refused: {other:?}"),
        }
        // One transaction for the run cannot hold schema changes there.
        let fresh = answering(answer);
        match Migrator::new(&CHAIN).one_transaction(true).upgrade(fresh.url(), "head") {
            Err(error @ Error::Unsupported { .. }) => {
                let text = error.to_string();
                assert!(text.contains("CockroachDB") || text.contains("YugabyteDB"), "{text}");
            }
            other => panic!("{answer}: one transaction was not refused: {other:?}"),
        }
        assert_eq!(rows("SELECT count(*) FROM alembic_version", &fresh), ["0"], "nothing was changed");
        assert_eq!(rows("SELECT to_regclass('accounts') IS NULL", &fresh), ["t"], "nothing was changed");
    }
}

#[test]
fn on_postgresql_a_failing_migration_leaves_nothing_and_the_lock_is_advisory() {
    let db = database();
    let migrator = Migrator::new(&CHAIN);
    migrator.upgrade(db.url(), "e00000000001").expect("the first migration runs");
    assert!(matches!(migrator.upgrade(db.url(), "head"), Err(Error::MigrationFailed(_))));
    assert_eq!(rows("SELECT to_regclass('half') IS NULL", &db), ["t"], "rolled back with its transaction");
    assert_eq!(rows("SELECT to_regclass('alembic_version_lease') IS NULL", &db), ["t"], "no lease table");
}

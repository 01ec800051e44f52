//! Attacks on the refusal to start from base (`Error::ExistingSchema`), from outside: runners
//! racing on a fresh database, objects that must count and objects that must not, another
//! application's version table beside a version table of another schema, and every way of
//! running (threads, asynchronous, one transaction).

use std::sync::{Arc, Barrier};

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migrator, TableNames};

mod support;
use support::{database, rows};

static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");

const REVS: [&str; 5] = ["aaaa00000001", "bbbb00000002", "cccc00000003", "dddd00000004", "eeee00000005"];

fn exists(table: &str, db: &TestDatabase) -> bool {
    rows(&format!("SELECT to_regclass('{table}') IS NOT NULL"), db) == ["t"]
}

fn execute(db: &TestDatabase, sql: &str) {
    db.connect().expect("connects").batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Each migration applied exactly once, by whichever runner, and the database at its head.
fn applied_once(db: &TestDatabase, history: &str, applied: &mut Vec<String>) {
    applied.sort();
    assert_eq!(applied, &REVS, "each migration applied by exactly one runner");
    let twice = rows(
        &format!(
            "SELECT revision FROM {history} WHERE direction = 'upgrade' AND success GROUP BY revision \
             HAVING count(*) > 1"
        ),
        db,
    );
    assert!(twice.is_empty(), "applied twice: {twice:?}");
}

#[test]
fn runners_starting_together_on_a_fresh_database_all_succeed() {
    for one_transaction in [false, true] {
        let db = database();
        let runners = 8;
        let barrier = Arc::new(Barrier::new(runners));
        let url = db.url().to_owned();
        let handles: Vec<_> = (0..runners)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), url.clone());
                std::thread::spawn(move || {
                    let migrator = Migrator::new(&DIAMOND).one_transaction(one_transaction);
                    barrier.wait();
                    migrator.upgrade(url.as_str(), "head")
                })
            })
            .collect();
        let mut applied = Vec::new();
        for handle in handles {
            let report = handle
                .join()
                .expect("a runner panicked")
                .unwrap_or_else(|e| panic!("a runner was refused (one transaction: {one_transaction}): {e}"));
            applied.extend(report.steps.iter().map(|s| s.rev.to_owned()));
        }
        applied_once(&db, "migrate_history", &mut applied);
    }
}

#[test]
fn asynchronous_runners_starting_together_on_a_fresh_database_all_succeed() {
    let db = database();
    let tables = TableNames::new("app", "app_version", "app_history");
    execute(&db, "CREATE SCHEMA app");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let url = db.url().to_owned();
    let mut applied: Vec<String> = runtime.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let (url, tables) = (url.clone(), tables.clone());
                tokio::spawn(async move {
                    Migrator::new(&DIAMOND)
                        .tables(tables)
                        .one_transaction(i % 2 == 0)
                        .upgrade_async(url.as_str(), "head")
                        .await
                })
            })
            .collect();
        let mut applied = Vec::new();
        for task in tasks {
            let report =
                task.await.expect("a task panicked").unwrap_or_else(|e| panic!("a runner was refused: {e}"));
            applied.extend(report.steps.iter().map(|s| s.rev.to_owned()));
        }
        applied
    });
    applied_once(&db, "app.app_history", &mut applied);
}

#[test]
fn what_is_not_the_databases_own_is_not_counted() {
    let db = database();
    // Extensions' members, in public and in a schema of their own; an empty schema.
    execute(
        &db,
        "CREATE EXTENSION citext; CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE EXTENSION ltree;
         CREATE EXTENSION cube; CREATE EXTENSION earthdistance; CREATE EXTENSION lo; CREATE EXTENSION seg;
         CREATE EXTENSION isn; CREATE EXTENSION postgres_fdw; CREATE EXTENSION pg_stat_statements;
         CREATE EXTENSION btree_gist; CREATE EXTENSION unaccent; CREATE EXTENSION tablefunc;
         CREATE SCHEMA extensions; CREATE EXTENSION pgcrypto SCHEMA extensions;
         CREATE EXTENSION \"uuid-ossp\" SCHEMA extensions;
         CREATE SCHEMA reporting",
    );
    // Another session's temporary table, held open during the run.
    let mut other = db.connect().expect("connects");
    other
        .batch_execute("CREATE TEMP TABLE scratch (id int); CREATE TEMP SEQUENCE scratch_ids")
        .expect("creates");
    let report = Migrator::new(&DIAMOND).upgrade(db.url(), "head").unwrap_or_else(|e| panic!("refused: {e}"));
    assert_eq!(report.steps.len(), 5);
    drop(other);
}

#[test]
fn objects_of_another_schema_alone_are_refused_naming_them() {
    let db = database();
    execute(&db, "CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int)");
    for one_transaction in [false, true] {
        let error = Migrator::new(&DIAMOND)
            .one_transaction(one_transaction)
            .upgrade(db.url(), "head")
            .expect_err("refused");
        assert!(matches!(error, Error::ExistingSchema { .. }), "{error}");
        assert!(
            error.to_string().contains("1 object no migration recorded (table billing.invoices)"),
            "{error}"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let error =
        runtime.block_on(Migrator::new(&DIAMOND).upgrade_async(db.url(), "head")).expect_err("refused");
    assert!(matches!(error, Error::ExistingSchema { .. }), "{error}");
    assert!(!exists("alembic_version", &db) && !exists("people", &db));
}

#[test]
fn a_version_table_of_another_schema_beside_another_apps_alembic_version() {
    let db = database();
    // Another application, managed by Alembic, in public; this one keeps its tables in `app`.
    execute(
        &db,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('1975ea83b712');
         CREATE SCHEMA app",
    );
    let tables = TableNames::new("app", "alembic_version", "migrate_history");
    let migrator = Migrator::new(&DIAMOND).tables(tables.clone());
    let error = migrator.upgrade(db.url(), "head").expect_err("another application's table");
    let Error::ExistingSchema { table, tools, objects, count } = &error else {
        panic!("unexpected error: {error}")
    };
    assert_eq!(table, "app.alembic_version", "{error}");
    assert!(tools.is_empty(), "{error}");
    assert_eq!(
        (objects.as_slice(), *count),
        (&["table public.alembic_version".to_owned()][..], 1),
        "{error}"
    );
    assert!(
        error.to_string().starts_with("the database has no version table app.alembic_version but"),
        "{error}"
    );
    assert!(!exists("app.alembic_version", &db));
    // The explicit way past; the other application's row is left alone.
    migrator.stamp(db.url(), &["base"], false).expect("stamps base");
    let report = migrator.upgrade(db.url(), "head").expect("upgrades");
    assert_eq!(report.steps.len(), 5);
    assert_eq!(rows("SELECT version_num FROM public.alembic_version", &db), ["1975ea83b712"]);
    assert_eq!(rows("SELECT version_num FROM app.alembic_version", &db), ["eeee00000005"]);
    // And the default tables of a second migrator do not take `app`'s for theirs.
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("public's is not this chain's");
    assert!(!matches!(error, Error::ExistingSchema { .. }), "public.alembic_version exists: {error}");
}

#[test]
fn an_empty_version_table_of_another_schema_starts_from_base() {
    let db = database();
    execute(
        &db,
        "CREATE TABLE people_legacy (id int);
         CREATE SCHEMA app;
         CREATE TABLE app.alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY)",
    );
    let migrator =
        Migrator::new(&DIAMOND).tables(TableNames::new("app", "alembic_version", "migrate_history"));
    let report = migrator.upgrade(db.url(), "head").unwrap_or_else(|e| panic!("refused: {e}"));
    assert_eq!(report.steps.len(), 5);
}

#[test]
fn a_users_own_schema_migrations_table_is_named_as_what_it_may_be() {
    let db = database();
    execute(&db, "CREATE TABLE schema_migrations (id serial PRIMARY KEY, note text)");
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("refused");
    let Error::ExistingSchema { tools, count, .. } = &error else { panic!("unexpected error: {error}") };
    assert_eq!(tools.len(), 1, "{error}");
    assert_eq!(*count, 0, "its sequence is its column's: {error}");
    let help = error.help().unwrap_or_default();
    // adopt reads no such table: the help must not send the user there.
    assert!(!help.contains("adopt"), "{help}");
    assert!(help.contains("`stamp base`"), "{help}");
}

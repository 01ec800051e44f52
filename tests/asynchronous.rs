//! The asynchronous API on the caller's tokio runtime, on connections it opens and on
//! connections the caller lends it, against a real PostgreSQL.

use std::time::Duration;

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::tokio_postgres::{self, Client, NoTls, SimpleQueryMessage};
use migrate_runtime::{Chain, Database, Error, Migrator};

static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");
static FAILING: Chain = migrate_runtime::embed_migrations!("failing");
static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");

const E: &str = "eeee00000005";

fn database() -> TestDatabase {
    TestDatabase::new().unwrap_or_else(|e| panic!("no test database: {e}"))
}

/// A connection of the caller's own, driven by the test's runtime.
async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connects");
    tokio::spawn(connection);
    client
}

async fn values(client: &Client, query: &str) -> Vec<String> {
    client
        .simple_query(query)
        .await
        .expect("queries")
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect()
}

/// What a run could leave on a session: its settings, prepared statements, advisory locks,
/// and whether a transaction is open (`now()` is frozen inside one).
const LEFT_ON_SESSION: &str = "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), \
     current_setting('tcp_keepalives_idle'), \
     (SELECT count(*) FROM pg_prepared_statements), \
     (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_runs_on_the_callers_runtime() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND);
    let report = migrator.upgrade_async(db.url(), "head").await.expect("upgrades");
    assert_eq!(report.after, [E]);
    assert_eq!(report.steps.len(), 5);
    assert_eq!(migrator.current_async(db.url()).await.expect("reads"), [E]);
    assert!(migrator.is_at_heads_async(db.url()).await.expect("reads"));
    let history = migrator.history_async(db.url()).await.expect("reads");
    assert!(history.iter().all(|entry| entry.applied), "{history:?}");
    let back = migrator.downgrade_async(db.url(), "base").await.expect("downgrades");
    assert_eq!(back.steps.len(), 5);
    migrator.stamp_async(db.url(), &["head"], false).await.expect("stamps");
    assert_eq!(Migrator::new(&DIAMOND).current(db.url()).expect("the sync API agrees"), [E]);
    // The same settings, parsed by the caller.
    let config: tokio_postgres::Config = db.url().parse().expect("parses");
    assert_eq!(migrator.current_async(config).await.expect("reads"), [E]);
    assert_eq!(migrator.current_async(Database::parse(db.url()).expect("parses")).await.expect("reads"), [E]);
}

#[tokio::test]
async fn a_current_thread_runtime_gets_errors_not_panics() {
    let db = database();
    let refused = Migrator::new(&FAILING).upgrade_async(db.url(), "head").await;
    assert!(matches!(refused, Err(Error::MigrationFailed(_))), "{refused:?}");
    let unreachable = Migrator::new(&DIAMOND).current_async("postgres://nobody@127.0.0.1:1/x").await;
    assert!(matches!(unreachable, Err(Error::Connect { .. })), "{unreachable:?}");
    let unreadable = Migrator::new(&DIAMOND).current_async("postgres://u@h/db?nonsense=1").await;
    assert!(matches!(unreadable, Err(Error::UnreadableConnectionString { .. })), "{unreadable:?}");
    // The synchronous API, called where a service would call it, works too.
    let report = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect("upgrades");
    assert_eq!(report.after, [E]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lent_connection_is_given_back_as_it_was_lent() {
    let db = database();
    let client = connect(db.url()).await;
    client.batch_execute("SET lock_timeout = '7s'; SET tcp_keepalives_idle = 77").await.expect("sets");
    let before = values(&client, LEFT_ON_SESSION).await;
    assert_eq!(before, ["7s 0 77 0 0"]);

    let migrator = Migrator::new(&DIAMOND)
        .lock_timeout(Duration::from_secs(3))
        .statement_timeout(Duration::from_secs(9));
    let report = migrator.upgrade_async(&client, "head").await.expect("upgrades on the lent connection");
    assert_eq!(report.after, [E]);
    assert_eq!(values(&client, LEFT_ON_SESSION).await, before, "after a run");

    // A run that fails mid-way (its second migration fails) gives it back too, usable.
    let failing = database();
    let client = connect(failing.url()).await;
    client.batch_execute("SET lock_timeout = '7s'; SET tcp_keepalives_idle = 77").await.expect("sets");
    let failed =
        Migrator::new(&FAILING).lock_timeout(Duration::from_secs(3)).upgrade_async(&client, "head").await;
    assert!(matches!(failed, Err(Error::MigrationFailed(_))), "{failed:?}");
    assert_eq!(values(&client, LEFT_ON_SESSION).await, before, "after a failed run");
    assert_eq!(
        values(&client, "SELECT now() = statement_timestamp()").await,
        ["t"],
        "no transaction left open"
    );

    // Released, the lock lets the next runner in at once.
    let other = Migrator::new(&DIAMOND).lock_wait(Duration::from_millis(200));
    other.downgrade(db.url(), "base").expect("another runner takes the lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lent_connection_waits_for_the_lock_and_holds_none_after() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND).lock_wait(Duration::from_millis(600));
    let holder = connect(db.url()).await;
    let key = migrator.table_names().lock_key_sql();
    holder.batch_execute(&format!("SELECT pg_advisory_lock({key})")).await.expect("locks");

    let client = connect(db.url()).await;
    let before = values(&client, LEFT_ON_SESSION).await;
    let waited = migrator.upgrade_async(&client, "head").await;
    assert!(matches!(waited, Err(Error::LockTimeout { .. })), "{waited:?}");
    assert_eq!(values(&client, LEFT_ON_SESSION).await, before);
    assert_eq!(migrator.current_async(&client).await.expect("reads"), Vec::<String>::new(), "nothing ran");

    holder.batch_execute(&format!("SELECT pg_advisory_unlock({key})")).await.expect("unlocks");
    migrator.upgrade_async(&client, "head").await.expect("upgrades once the lock is free");
    assert_eq!(values(&client, LEFT_ON_SESSION).await, before);
}

/// How many times each data migration of the fault chain ran.
async fn ledger(client: &Client) -> Vec<String> {
    values(client, "SELECT rev || ' ' || count(*) FROM ledger GROUP BY rev ORDER BY rev").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_started_together_on_one_runtime_apply_each_migration_once() {
    let db = database();
    let runs = (0..8).map(|_| {
        let url = db.url().to_owned();
        tokio::spawn(async move { Migrator::new(&FAULTS).upgrade_async(&url, "head").await })
    });
    let mut steps = 0;
    for run in runs {
        steps += run.await.expect("joins").expect("upgrades").steps.len();
    }
    assert_eq!(steps, 6, "each step is applied by one runner");
    let client = connect(db.url()).await;
    assert_eq!(ledger(&client).await, ["fb0000000002 1", "fe0000000005 1", "ff0000000006 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_future_is_dropped_leaves_no_step_half_applied() {
    let db = database();
    let migrator = Migrator::new(&FAULTS);
    // Up to the transactional data migrations: the ones a dropped future may cut.
    migrator.upgrade_async(db.url(), "fd0000000004").await.expect("upgrades");
    for delay in [0, 30, 120, 250, 400, 600] {
        let cut =
            tokio::time::timeout(Duration::from_millis(delay), migrator.upgrade_async(db.url(), "head"))
                .await;
        if cut.is_ok() {
            migrator.downgrade_async(db.url(), "fd0000000004").await.expect("downgrades");
        }
        // The dropped run's connection closes; its backend rolls back and frees the lock.
        let report = migrator.upgrade_async(db.url(), "head").await.expect("upgrades after the cut");
        assert_eq!(report.after, ["ff0000000006"]);
        let client = connect(db.url()).await;
        assert_eq!(
            ledger(&client).await,
            ["fb0000000002 1", "fe0000000005 1", "ff0000000006 1"],
            "cut at {delay} ms"
        );
        migrator.downgrade_async(db.url(), "fd0000000004").await.expect("downgrades");
    }
}

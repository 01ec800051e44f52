//! The asynchronous API on the caller's tokio runtime, on connections it opens and on
//! connections the caller lends it, against a real PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use migrate_runtime::tokio_postgres::{self, Client, NoTls, SimpleQueryMessage};
use migrate_runtime::{Chain, Database, Error, Migrator};

mod support;
use support::database;

static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");
static FAILING: Chain = migrate_runtime::embed_migrations!("failing");
static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");
static LATE_CANCEL: Chain = migrate_runtime::embed_migrations!("late_cancel");

const E: &str = "eeee00000005";

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
        // The dropped run's connection closes; its backend ends the statement in flight
        // (committing or rolling back its step), then frees the lock.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lent_connection_inside_a_transaction_is_refused_and_its_work_kept() {
    let db = database();
    let client = connect(db.url()).await;
    client.batch_execute("CREATE TABLE callers (id int)").await.expect("creates");
    let migrator = Migrator::new(&DIAMOND);
    client.batch_execute("BEGIN; INSERT INTO callers VALUES (42)").await.expect("begins");
    for refused in [
        migrator.upgrade_async(&client, "head").await.map(|r| r.after),
        migrator.stamp_async(&client, &["head"], false).await.map(|r| r.after),
        migrator.current_async(&client).await,
    ] {
        assert!(
            matches!(&refused, Err(Error::LentConnection { reason }) if reason.contains("inside a transaction")),
            "{refused:?}"
        );
    }
    // The caller's transaction is as it was: still open, still its own to end.
    assert_eq!(values(&client, "SELECT count(*) FROM callers").await, ["1"]);
    client.batch_execute("ROLLBACK").await.expect("rolls back");
    assert_eq!(values(&client, "SELECT count(*) FROM callers").await, ["0"], "the caller's rollback held");
    assert_eq!(migrator.current(db.url()).expect("reads"), Vec::<String>::new(), "nothing ran");

    // Inside a transaction that failed: refused too, and the caller still ends it.
    client.batch_execute("BEGIN").await.expect("begins");
    assert!(client.batch_execute("SELECT 1/0").await.is_err());
    let refused = migrator.upgrade_async(&client, "head").await;
    assert!(
        matches!(&refused, Err(Error::LentConnection { reason }) if reason.contains("failed")),
        "{refused:?}"
    );
    client.batch_execute("ROLLBACK").await.expect("rolls back");
    // The caller's table predates the migrations, which start from base here: said once.
    migrator.stamp_async(&client, &["base"], false).await.expect("stamps base");
    migrator.upgrade_async(&client, "head").await.expect("upgrades once outside a transaction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_lent_to_two_runs_at_once_serves_one() {
    let db = database();
    let client = connect(db.url()).await;
    let migrator = Migrator::new(&FAULTS);
    let (first, second) =
        tokio::join!(migrator.upgrade_async(&client, "head"), migrator.upgrade_async(&client, "head"));
    let refused = [&first, &second].iter().filter(|r| matches!(r, Err(Error::LentConnection { .. }))).count();
    let done = [&first, &second].iter().filter(|r| r.is_ok()).count();
    assert_eq!((done, refused), (1, 1), "{first:?} / {second:?}");
    assert_eq!(ledger(&client).await, ["fb0000000002 1", "fe0000000005 1", "ff0000000006 1"]);
    assert_eq!(values(&client, LEFT_ON_SESSION).await, ["0 0 7200 0 0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lent_connection_whose_run_was_dropped_is_refused_after() {
    let db = database();
    let migrator = Migrator::new(&FAULTS);
    migrator.upgrade_async(db.url(), "fd0000000004").await.expect("upgrades");
    let client = connect(db.url()).await;
    // Cut while a slow step runs: the run leaves its lock and statements in the session.
    let cut = tokio::time::timeout(Duration::from_millis(150), migrator.upgrade_async(&client, "head")).await;
    assert!(cut.is_err(), "the run ended before the cut");
    let refused = migrator.upgrade_async(&client, "head").await;
    assert!(
        matches!(&refused, Err(Error::LentConnection { reason }) if reason.contains("did not finish")),
        "{refused:?}"
    );
    drop(client);
    // Dropped, as the refusal says: its session ends, and a run on another goes on.
    migrator.upgrade_async(db.url(), "head").await.expect("upgrades");
    let client = connect(db.url()).await;
    assert_eq!(ledger(&client).await, ["fb0000000002 1", "fe0000000005 1", "ff0000000006 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lenders_settings_do_not_change_what_the_migrations_do() {
    let db = database();
    let client = connect(db.url()).await;
    // A schema of the application first on the path, and a timeout shorter than the chain's
    // slow step (0.3 s): on a connection of its own, neither would apply.
    client
        .batch_execute("CREATE SCHEMA app; SET search_path = app, public; SET statement_timeout = '200ms'")
        .await
        .expect("sets");
    let before =
        values(&client, "SELECT current_setting('search_path'), current_setting('statement_timeout')").await;
    Migrator::new(&FAULTS).upgrade_async(&client, "head").await.expect("upgrades");
    let other = connect(db.url()).await;
    assert_eq!(
        values(&other, "SELECT to_regclass('public.items') IS NOT NULL, to_regclass('app.items') IS NULL")
            .await,
        ["t t"]
    );
    let after =
        values(&client, "SELECT current_setting('search_path'), current_setting('statement_timeout')").await;
    assert_eq!(after, before);
    assert_eq!(after, ["app, public 200ms"]);
}

/// Runs the late-cancel chain `rounds` times with an interrupt at a random moment around the
/// end of its slow statements (a cancel request may then reach a later statement), on a lent
/// connection or on its own; returns what went wrong.
async fn late_cancels(url: &str, lent: bool, rounds: u64) -> Vec<String> {
    let base = Migrator::new(&LATE_CANCEL);
    let mut seed: u64 = std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_cafe);
    let mut wrong = Vec::new();
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        base.upgrade_async(url, "1a0000000001").await.expect("upgrades");
        let flag = Arc::new(AtomicUsize::new(0));
        let migrator = Migrator::new(&LATE_CANCEL).interrupt_on(flag.clone());
        let delay = Duration::from_micros(5_000 + seed % 110_000);
        let setter = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            flag.store(15, Ordering::SeqCst);
        });
        let client = connect(url).await;
        let before = values(&client, LEFT_ON_SESSION).await;
        let run = if lent {
            migrator.upgrade_async(&client, "head").await
        } else {
            migrator.upgrade_async(url, "head").await
        };
        setter.await.expect("joins");
        // Told to drop the connection: a cancel request may be in flight. Said, not silent.
        let told = matches!(&run, Err(Error::NotGivenBack { .. }));
        match &run {
            Ok(_) | Err(Error::Interrupted { .. }) => {}
            Err(Error::NotGivenBack { reason, .. }) if lent && reason.contains("cancel request") => {}
            Err(error) => wrong.push(format!("round {round} ({delay:?}): {}", error.report())),
        }
        if lent && !told {
            match client.simple_query("SELECT 1 FROM pg_sleep(0.03)").await {
                Ok(_) => {}
                Err(error) => wrong.push(format!(
                    "round {round} ({delay:?}): the caller's next query failed: {:?}",
                    error.as_db_error().map(|e| e.message())
                )),
            }
            let after = values(&client, LEFT_ON_SESSION).await;
            if after != before {
                wrong.push(format!("round {round} ({delay:?}): given back as {after:?}, lent as {before:?}"));
            }
        }
        drop(client);
        // What the interrupt left, the next run finishes. It refuses the step outside a
        // transaction only when the cancel stopped that step's statement (the operator then
        // runs it again); a refusal saying that every statement ran means the cancel reached
        // the record of its end instead, which is wrong.
        match base.upgrade_async(url, "head").await {
            Ok(_) => {}
            Err(Error::Dirty(unfinished)) if !unfinished.finished => {
                let rows: Vec<&str> = unfinished.way_out().iter().map(String::as_str).collect();
                base.stamp_async(url, &rows, false).await.expect("stamps");
                base.upgrade_async(url, "head").await.expect("upgrades");
            }
            Err(error) => {
                wrong
                    .push(format!("round {round} ({delay:?}): the next run was refused: {}", error.report()));
                base.stamp_async(url, &["head"], true).await.expect("stamps");
            }
        }
        let ledger = values(&connect(url).await, "SELECT count(*) FROM ledger").await;
        if ledger != ["1"] {
            wrong.push(format!("round {round} ({delay:?}): the data migration ran {ledger:?} times"));
        }
        base.downgrade_async(url, "1a0000000001").await.expect("downgrades");
    }
    wrong
}

fn rounds() -> u64 {
    std::env::var("FAULT_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(25)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_cancel_stops_nothing_after_its_statement_on_a_lent_connection() {
    let db = database();
    let wrong = late_cancels(db.url(), true, rounds()).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_cancel_does_not_stop_the_record_of_a_steps_end() {
    let db = database();
    let wrong = late_cancels(db.url(), false, rounds()).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

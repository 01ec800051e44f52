//! Lock timeouts on a real PostgreSQL (the test kit's throwaway server, or `DATABASE_URL`'s):
//! every migration step waits for a lock 2 s at most unless told otherwise, a step that
//! times out on a lock is tried again a bounded number of times (inside a transaction
//! whole, outside one from the statement that failed), and when it gives up the error names
//! the session that held the lock and its query. The timeouts here are short (the Migrator's
//! settings), so that the file takes seconds.

use std::time::{Duration, Instant};

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migrator, TableNames};

/// People (A), notes (B) and tags (C), their merge (D), then `ALTER TABLE people ADD
/// COLUMN phone` (E), each inside a transaction.
static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");
/// A ledger and items (FA), a data migration (FB), then outside a transaction a statement
/// (`op.execute`) and a concurrent index build on items (FC).
static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");

const D: &str = "dddd00000004";
const E: &str = "eeee00000005";
const FB: &str = "fb0000000002";
const FC: &str = "fc0000000003";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn database() -> TestDatabase {
    TestDatabase::new().unwrap_or_else(|e| panic!("no test database: {e}"))
}

fn rows(query: &str, database: &TestDatabase) -> Vec<String> {
    let mut client = database.connect().expect("connects");
    client
        .simple_query(query)
        .expect("queries")
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect()
}

/// What the runners said on their own; the tests run together, so each picks its own by the
/// pid of its holder.
static NOTES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn remember(note: &str) {
    NOTES.lock().expect("notes").push(note.to_owned());
}

/// Whether `text` names the session `pid` (followed by its application, or its state).
fn names(text: &str, pid: i32) -> bool {
    text.contains(&format!("pid {pid} (")) || text.contains(&format!("pid {pid},"))
}

fn notes_naming(pid: i32) -> Vec<String> {
    NOTES.lock().expect("notes").iter().filter(|n| names(n, pid)).cloned().collect()
}

/// A second session that, inside a transaction it leaves open, runs `sql` (taking a lock)
/// and then a query the error must show; with its pid.
fn holder(db: &TestDatabase, sql: &str, query: &str) -> (postgres::Client, i32) {
    let mut client = db.connect().expect("connects");
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).expect("reads its pid").get(0);
    client.batch_execute(&format!("BEGIN; {sql}")).expect("holds the lock");
    // On its own, so that it is the session's last query, as PostgreSQL shows it.
    client.batch_execute(query).expect("queries");
    (client, pid)
}

/// `(successes, failures)` of `rev`'s upgrades in the history, as text.
fn outcomes(rev: &str, db: &TestDatabase) -> Vec<String> {
    rows(
        &format!(
            "SELECT count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success) FROM migrate_history \
             WHERE revision = '{rev}' AND direction = 'upgrade'"
        ),
        db,
    )
}

#[test]
fn a_step_blocked_at_every_attempt_fails_naming_the_blocker_and_its_query() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND)
        .lock_timeout(ms(200))
        .lock_retries(2)
        .lock_retry_pause(ms(50))
        .on_note(remember);
    migrator.upgrade(db.url(), D).expect("upgrades");
    let query = "SELECT 'held by the lock-timeouts test' AS marker";
    let (mut held, pid) = holder(&db, "LOCK TABLE people IN ACCESS SHARE MODE", query);

    let start = Instant::now();
    let error = migrator.upgrade(db.url(), "head").expect_err("blocked");
    let elapsed = start.elapsed();
    let report = error.report();
    let Error::Blocked { failure, attempts, blocked_by } = &error else {
        panic!("unexpected error: {report}")
    };
    // The first attempt and two retries, each waiting 200 ms.
    assert_eq!(*attempts, 3, "{report}");
    assert!(elapsed >= ms(600) && elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!((failure.rev.as_str(), failure.code.as_deref()), (E, Some("55P03")), "{report}");
    assert!(failure.statement.as_deref().is_some_and(|s| s.starts_with("ALTER TABLE")), "{report}");
    // The real blocker: its pid, its state, how long its transaction has been open, its query.
    let named = blocked_by
        .iter()
        .find(|b| b.starts_with("pid ") && names(b, pid))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(named.contains("idle in transaction") && named.contains("its transaction open for"), "{named}");
    assert!(named.contains(&format!("query: {query}")), "{named}");
    assert!(names(&error.to_string(), pid) && error.to_string().contains("; blocked by pid "), "{error}");
    assert!(
        report.contains(&format!("  blocked by: pid {pid}")) && report.contains("tried 3 times"),
        "{report}"
    );
    assert!(report.contains("the database is as it was before it"), "{report}");
    assert!(!report.contains(db.url()), "{report}");
    // Each retry was said, naming the blocker.
    let notes = notes_naming(pid);
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(
        notes[0].contains(&format!("upgrade {E} (add_people_phone_column): its statement 1 of 1")),
        "{notes:#?}"
    );
    assert!(notes[0].contains("attempt 1 of 3 failed: rolled back; the step runs again"), "{notes:#?}");
    assert!(notes[1].contains("attempt 2 of 3"), "{notes:#?}");

    // Nothing was applied, and the history records the failure once, with the blocker's pid.
    assert_eq!(migrator.current(db.url()).expect("reads"), [D]);
    assert_eq!(
        rows(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'phone'",
            &db
        ),
        ["0"]
    );
    assert_eq!(outcomes(E, &db), ["0 1"]);
    let recorded = rows(&format!("SELECT error FROM migrate_history WHERE revision = '{E}'"), &db);
    assert!(
        recorded.len() == 1 && recorded[0].contains(&format!("3 attempts; blocked by pid {pid})")),
        "{recorded:?}"
    );
    assert!(!recorded[0].contains("marker"), "{recorded:?}");

    held.batch_execute("ROLLBACK").expect("releases");
    assert_eq!(migrator.upgrade(db.url(), "head").expect("upgrades once free").after, [E]);
    assert_eq!(outcomes(E, &db), ["1 1"]);
}

#[test]
fn a_step_whose_blocker_lets_go_during_the_retries_is_applied_once() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND)
        .lock_timeout(ms(200))
        .lock_retries(8)
        .lock_retry_pause(ms(50))
        .on_note(remember);
    migrator.upgrade(db.url(), D).expect("upgrades");
    let (mut held, pid) =
        holder(&db, "LOCK TABLE people IN ACCESS SHARE MODE", "SELECT 'let go of by the lock-timeouts test'");
    let releasing = std::thread::spawn(move || {
        std::thread::sleep(ms(500));
        held.batch_execute("ROLLBACK").expect("releases");
    });

    let report = migrator.upgrade(db.url(), "head").expect("applied once the lock is free");
    releasing.join().expect("released");
    assert_eq!(report.steps.iter().map(|s| s.rev).collect::<Vec<_>>(), [E]);
    assert_eq!(report.after, [E]);
    // One success, no failure, the column there once.
    assert_eq!(outcomes(E, &db), ["1 0"]);
    assert_eq!(
        rows(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'phone'",
            &db
        ),
        ["1"]
    );
    let notes = notes_naming(pid);
    assert!(!notes.is_empty() && notes.iter().all(|n| n.contains("the step runs again")), "{notes:#?}");
}

#[test]
fn a_statement_outside_a_transaction_is_retried_alone_and_its_invalid_index_dropped() {
    let db = database();
    let migrator = Migrator::new(&FAULTS)
        .lock_timeout(ms(200))
        .lock_retries(10)
        .lock_retry_pause(ms(50))
        .on_note(remember);
    migrator.upgrade(db.url(), FB).expect("upgrades");
    // An uncommitted write to items: the concurrent build waits for it after creating its
    // index (which a timeout then leaves INVALID), and so does the drop of that index.
    let (mut held, pid) = holder(
        &db,
        "INSERT INTO items VALUES (100001, 'held')",
        "SELECT 'a writer held by the lock-timeouts test'",
    );
    let releasing = std::thread::spawn(move || {
        std::thread::sleep(ms(900));
        held.batch_execute("ROLLBACK").expect("releases");
    });

    let report = migrator.upgrade(db.url(), FC).expect("applied once the writer is done");
    releasing.join().expect("released");
    assert_eq!(report.after, [FC]);
    // The build was retried (its statement 2 of 2, not the step from its claim)...
    let notes = notes_naming(pid);
    assert!(!notes.is_empty(), "no retry was said");
    assert!(
        notes
            .iter()
            .all(|n| n.contains(&format!("upgrade {FC} (index_items_by_name): its statement 2 of 2"))
                && n.contains("the statement runs again (the ones before it stay applied)")),
        "{notes:#?}"
    );
    // ...after dropping the INVALID index its timed-out attempt left...
    let dropped = NOTES
        .lock()
        .expect("notes")
        .iter()
        .filter(|n| n.starts_with("dropping the index") && n.contains(FC))
        .count();
    assert!(dropped >= 1, "no invalid index was dropped");
    // ...and the step was claimed once and ended once: one success.
    assert_eq!(
        rows(
            &format!(
                "SELECT coalesce(success::text, 'claim') FROM migrate_history WHERE revision = '{FC}' ORDER BY id"
            ),
            &db
        ),
        ["claim", "true"]
    );
    assert_eq!(
        rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_items_name'::regclass", &db),
        ["t"]
    );
    assert_eq!(rows("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_items_name'", &db), ["1"]);
    assert_eq!(rows(&format!("SELECT count(*) FROM ledger WHERE rev = '{FB}'"), &db), ["1"]);
    // The next run has nothing to do.
    assert!(migrator.upgrade(db.url(), FC).expect("runs").steps.is_empty());
}

#[test]
fn by_default_a_step_waits_two_seconds_for_a_lock_and_the_runner_s_own_waits_are_not_bounded() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND).lock_retries(0);
    migrator.upgrade(db.url(), D).expect("upgrades");

    // The runner's own lock of the version table waits as long as it takes (here 2.5 s, more
    // than the default): the default is the migrations' own.
    let (mut writer, _) = holder(
        &db,
        &format!("LOCK TABLE {} IN ROW EXCLUSIVE MODE", TableNames::default().version()),
        "SELECT 'a writer of the version table'",
    );
    let releasing = std::thread::spawn(move || {
        std::thread::sleep(ms(2_500));
        writer.batch_execute("ROLLBACK").expect("releases");
    });
    let start = Instant::now();
    let (mut held, pid) =
        holder(&db, "LOCK TABLE people IN ACCESS SHARE MODE", "SELECT 'held against the default timeout'");
    let error = migrator.upgrade(db.url(), "head").expect_err("blocked");
    let elapsed = start.elapsed();
    releasing.join().expect("released");
    let Error::Blocked { attempts: 1, blocked_by, .. } = &error else {
        panic!("unexpected error: {}", error.report())
    };
    // 2.5 s for the version table, then 2 s for people.
    assert!(elapsed >= ms(4_400) && elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert!(blocked_by.iter().any(|b| names(b, pid)), "{blocked_by:?}");
    held.batch_execute("ROLLBACK").expect("releases");
    assert_eq!(migrator.upgrade(db.url(), "head").expect("upgrades once free").after, [E]);
}

#[test]
fn the_default_timeout_is_each_step_s_own_and_can_be_changed_or_turned_off() {
    // Inside a transaction: after the version table's lock, with the step's statements.
    let script = Migrator::new(&DIAMOND).upgrade_sql("base", "head").expect("renders");
    assert_eq!(script.matches("SET LOCAL lock_timeout = '2000ms';").count(), DIAMOND.len(), "{script}");
    assert!(!script.contains("SET lock_timeout"), "{script}");
    // Outside one: around its statements only.
    let script = Migrator::new(&FAULTS).upgrade_sql("base", "head").expect("renders");
    let around = "SET lock_timeout = '2000ms';\nSELECT pg_sleep(0.1);\n";
    assert!(script.contains(around) && script.contains("RESET lock_timeout;"), "{script}");
    // Set for the run: for the session, and each step's.
    let script = Migrator::new(&DIAMOND).lock_timeout(ms(500)).upgrade_sql("base", "head").expect("renders");
    assert!(script.starts_with("SET lock_timeout = '500ms';"), "{script}");
    assert_eq!(script.matches("SET LOCAL lock_timeout = '500ms';").count(), DIAMOND.len(), "{script}");
    // Turned off: no timeout at all.
    let script =
        Migrator::new(&DIAMOND).lock_timeout(Duration::ZERO).upgrade_sql("base", "head").expect("renders");
    assert!(script.starts_with("SET lock_timeout = '0';"), "{script}");
    assert!(!script.contains("2000ms"), "{script}");
}

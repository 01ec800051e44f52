//! Lock timeouts on a real PostgreSQL (the test kit's throwaway server, or `DATABASE_URL`'s):
//! every migration step waits for a lock 2 s at most unless told otherwise, a step that
//! times out on a lock is tried again a bounded number of times (inside a transaction
//! whole, outside one from the statement that failed), and when it gives up the error names
//! the session that held the lock and its query. The timeouts here are short (the Migrator's
//! settings), so that the file takes seconds. The statements that block no query even while
//! they wait (a concurrent index build, a lone `VALIDATE CONSTRAINT`) run, outside a
//! transaction, without the default.

use std::time::{Duration, Instant};

use migrate_runtime::op::Op;
use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migration, Migrator, TableNames};

mod support;
use support::{database, nothing, rows};

/// People (A), notes (B) and tags (C), their merge (D), then `ALTER TABLE people ADD
/// COLUMN phone` (E), each inside a transaction.
static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");
/// A ledger and items (FA), a data migration (FB), then outside a transaction a statement
/// (`op.execute`) and a concurrent index build on items (FC).
static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");

/// People with e-mail addresses (UA, in a transaction), then outside one a unique
/// constraint on them built concurrently (UB): `CREATE UNIQUE INDEX CONCURRENTLY`, then
/// `ALTER TABLE people ADD CONSTRAINT … UNIQUE USING INDEX`.
static UNIQUE: Chain = Chain::new(&[&UNIQUE_A, &UNIQUE_B]);
static UNIQUE_A: Migration = migration(UA, &[], true, people);
static UNIQUE_B: Migration = migration(UB, &[UA], false, unique_email);
/// The same people, then outside a transaction their e-mail made NOT NULL through a CHECK
/// validated on its own (NB); and the same with the migration's own 5 s timeout (NC).
static NOT_NULL: Chain = Chain::new(&[&NOT_NULL_A, &NOT_NULL_B, &NOT_NULL_C]);
static NOT_NULL_A: Migration = migration(NA, &[], true, people);
static NOT_NULL_B: Migration = migration(NB, &[NA], false, email_not_null);
static NOT_NULL_C: Migration = migration(NC, &[NB], false, email_unique_within_5_s);

const UA: &str = "1a0000000001";
const UB: &str = "1b0000000002";
const NA: &str = "2a0000000001";
const NB: &str = "2b0000000002";
const NC: &str = "2c0000000003";
const D: &str = "dddd00000004";
const E: &str = "eeee00000005";
const FB: &str = "fb0000000002";
const FC: &str = "fc0000000003";

const fn migration(
    rev: &'static str,
    parents: &'static [&'static str],
    transactional: bool,
    upgrade: fn(&mut Op),
) -> Migration {
    support::migration(rev, parents, ("lock_timeouts", "lock_timeouts.rs"), transactional, upgrade, nothing)
}

fn people(op: &mut Op) {
    op.execute("CREATE TABLE people (id bigint PRIMARY KEY, email text)");
    op.execute("INSERT INTO people SELECT g, 'p' || g || '@example.com' FROM generate_series(1, 1000) g");
}

fn unique_email(op: &mut Op) {
    op.create_unique_constraint("uq_people_email", "people", &["email"]).concurrently();
}

fn email_not_null(op: &mut Op) {
    op.alter_column("people", "email").set_not_null_through_check();
}

fn email_unique_within_5_s(op: &mut Op) {
    op.lock_timeout(Duration::from_secs(5));
    op.create_unique_constraint("uq_people_email", "people", &["email"]).concurrently();
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
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

/// Notes of `rev` that say a statement timed out on a lock.
fn timeouts_of(rev: &str) -> Vec<String> {
    NOTES
        .lock()
        .expect("notes")
        .iter()
        .filter(|n| n.contains(rev) && n.contains("timed out"))
        .cloned()
        .collect()
}

/// A transaction left open on another connection, with a snapshot (REPEATABLE READ: a long
/// report, or any query running), for `held`, then committed; with its pid. A concurrent
/// index build waits for it to end, through lock waits.
fn old_transaction(db: &TestDatabase, held: Duration) -> (std::thread::JoinHandle<()>, i32) {
    let mut client = db.connect().expect("connects");
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).expect("reads its pid").get(0);
    client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT txid_current()").expect("begins");
    let committing = std::thread::spawn(move || {
        std::thread::sleep(held);
        client.batch_execute("COMMIT").expect("commits");
    });
    (committing, pid)
}

#[test]
fn a_concurrent_build_waits_out_an_old_transaction_without_the_default_timeout() {
    let db = database();
    let migrator = Migrator::new(&UNIQUE).on_note(remember);
    migrator.upgrade(db.url(), UA).expect("upgrades");
    let (committing, _) = old_transaction(&db, ms(3_000));

    let start = Instant::now();
    let report = migrator.upgrade(db.url(), "head").expect("applied once the old transaction ends");
    let elapsed = start.elapsed();
    committing.join().expect("committed");
    assert_eq!(report.after, [UB]);
    // The build waited for the old transaction, longer than the default timeout...
    assert!(elapsed >= ms(2_500) && elapsed < Duration::from_secs(20), "took {elapsed:?}");
    // ...in one attempt: no retry was said, and the step was claimed once and ended once,
    // without an error.
    assert_eq!(timeouts_of(UB), Vec::<String>::new());
    assert_eq!(
        rows(
            &format!(
                "SELECT coalesce(success::text, 'claim'), coalesce(error, '') FROM migrate_history \
                 WHERE revision = '{UB}' ORDER BY id"
            ),
            &db
        ),
        ["claim ", "true "]
    );
    assert_eq!(rows("SELECT contype FROM pg_constraint WHERE conname = 'uq_people_email'", &db), ["u"]);
}

#[test]
fn after_a_concurrent_build_the_next_statement_keeps_the_default_timeout() {
    let db = database();
    let migrator = Migrator::new(&UNIQUE).lock_retries(0).on_note(remember);
    migrator.upgrade(db.url(), UA).expect("upgrades");
    // A reader inside a transaction: the build does not wait for it (ACCESS SHARE conflicts
    // with none of its locks), the ADD CONSTRAINT after it does (ACCESS EXCLUSIVE).
    let query = "SELECT 'a reader held by the lock-timeouts test'";
    let (mut held, pid) = holder(&db, "LOCK TABLE people IN ACCESS SHARE MODE", query);

    let start = Instant::now();
    let error = migrator.upgrade(db.url(), "head").expect_err("blocked");
    let elapsed = start.elapsed();
    let report = error.report();
    let Error::Blocked { failure, attempts: 1, blocked_by } = &error else {
        panic!("unexpected error: {report}")
    };
    // The default: 2 s.
    assert!(elapsed >= ms(1_900) && elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!((failure.rev.as_str(), failure.code.as_deref()), (UB, Some("55P03")), "{report}");
    assert_eq!(failure.statement_index, Some((1, 2)), "{report}");
    assert!(failure.statement.as_deref().is_some_and(|s| s.contains("UNIQUE USING INDEX")), "{report}");
    let named = blocked_by.iter().find(|b| names(b, pid)).unwrap_or_else(|| panic!("{report}"));
    assert!(named.contains(&format!("query: {query}")), "{named}");
    held.batch_execute("ROLLBACK").expect("releases");
    // The build before it stays applied.
    assert_eq!(
        rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_people_email'::regclass", &db),
        ["t"]
    );
    assert_eq!(rows("SELECT count(*) FROM pg_constraint WHERE conname = 'uq_people_email'", &db), ["0"]);
}

#[test]
fn a_timeout_set_for_the_run_still_bounds_a_concurrent_build() {
    let db = database();
    let migrator = Migrator::new(&UNIQUE).lock_timeout(ms(300)).lock_retries(0).on_note(remember);
    migrator.upgrade(db.url(), UA).expect("upgrades");
    let (committing, pid) = old_transaction(&db, ms(1_500));

    let error = migrator.upgrade(db.url(), "head").expect_err("blocked");
    committing.join().expect("committed");
    let report = error.report();
    let Error::Blocked { failure, blocked_by, .. } = &error else { panic!("unexpected error: {report}") };
    assert_eq!(failure.statement_index, Some((0, 2)), "{report}");
    assert!(blocked_by.iter().any(|b| names(b, pid)), "{report}");
}

#[test]
fn the_script_shows_the_default_lifted_around_the_statements_that_block_no_query() {
    // A concurrent build first: the step's settings lift the default; the ADD CONSTRAINT
    // after it (alone: the build runs alone) gets it back; the reset ends the step.
    let script = Migrator::new(&UNIQUE).upgrade_sql("base", "head").expect("renders");
    let step = &script[script.find(&format!("-- Running upgrade {UB}")).expect("the step")..];
    let set_off = step.find("SET lock_timeout = '0';\n").expect("lifted");
    let build = step.find("CREATE UNIQUE INDEX CONCURRENTLY").expect("the build");
    let set_back =
        step.find("SET lock_timeout = '2000ms';\nALTER TABLE \"people\" ADD CONSTRAINT").expect("put back");
    let reset = step.find("RESET lock_timeout;").expect("reset");
    assert!(set_off < build && build < set_back && set_back < reset, "{step}");
    // A lone VALIDATE CONSTRAINT: the settings go in its own round trip, before and after it.
    let script = Migrator::new(&NOT_NULL).upgrade_sql("base", NB).expect("renders");
    let at = script.find("VALIDATE CONSTRAINT").expect("the validation");
    assert!(script[..at].ends_with("SET lock_timeout = '0';\nALTER TABLE \"people\" "), "{script}");
    let after = &script[at..][script[at..].find(";\n").expect("its end") + 2..];
    let next = "SET lock_timeout = '2000ms';\nALTER TABLE \"people\" ALTER COLUMN \"email\" SET NOT NULL;\n";
    assert!(after.starts_with(next), "{script}");
    assert_eq!(script.matches("SET lock_timeout = '2000ms';").count(), 2, "{script}");
    // A timeout the migration or the run sets bounds every statement, as before.
    let script = Migrator::new(&NOT_NULL).upgrade_sql(NB, NC).expect("renders");
    assert!(
        script.contains("SET lock_timeout = '5000ms';") && !script.contains("lock_timeout = '0'"),
        "{script}"
    );
    let script = Migrator::new(&UNIQUE).lock_timeout(ms(500)).upgrade_sql("base", "head").expect("renders");
    assert!(!script.contains("lock_timeout = '0'"), "{script}");
}

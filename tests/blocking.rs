//! Each unsafe schema change blocks writers, and its recipe does not: measured on a table of
//! 1,000,000 rows (`BLOCKING_ROWS` for another count) on a real PostgreSQL (the test kit's
//! throwaway server, or `DATABASE_URL`'s), with every change run as a migration through the
//! runner, as users run it.
//!
//! While a change runs, a second session inserts rows into the table, one autocommitted
//! `INSERT` after another, each timed; a third polls `pg_stat_activity` for that writer and,
//! whenever it waits on a lock (`wait_event_type = 'Lock'`), asks `pg_blocking_pids` who
//! holds it up and what that session runs. The assertions are those observations, not
//! timings: the unsafe form made the writer wait on its own statement; the recipe never made
//! it wait on anything but the statements listed as brief for it (metadata changes that read
//! no row and commit at once), and never on a statement that reads the table
//! (`VALIDATE CONSTRAINT`, a concurrent build, a backfill). When the writer was seen waiting
//! on a brief statement, the recipe's longest write must still be shorter than the unsafe
//! form's. Waits on the lock that adds a page to the table, which any two writers share, are
//! listed apart (see [`EXTEND`]). The figures (longest write, writers' total wait, the
//! change's time) are printed (`--nocapture`) and recorded in BENCHMARKS.md.
//!
//! Each case starts from the same table: what it added is removed by its downgrade, the
//! writer's rows are deleted and the table vacuumed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use migrate_runtime::op::{Op, Type, sql};
use migrate_runtime::{Chain, Migration, Migrator};

mod support;
use support::nothing;

/// Rows per backfill batch, each committing on its own.
const BATCH: u32 = 20_000;

/// The writer's pause between two writes: a steady stream of about a write per millisecond
/// that leaves the two cores to the change being measured.
const PACE: Duration = Duration::from_millis(1);

/// How long the writer writes before a change, to know what a write costs unhindered.
const QUIET: Duration = Duration::from_millis(300);

/// The `wait_event` of a lock on a table, the kind DDL takes.
const TABLE: &str = "relation";

/// The `wait_event` of the lock a session takes to add a page to a table. Every session that
/// writes new row versions takes it for the moment of adding one, so two writers of a table
/// contend on it whatever the schema changes do: the writer was seen waiting on it behind a
/// backfill, whose `UPDATE` adds pages for the new versions of the rows, as a second writer
/// of the application would. It is held for one page's extension, never for a statement, so
/// waits on it are listed but are not a recipe's lock.
const EXTEND: &str = "extend";

/// What makes a statement read the whole table: a writer waiting on one is blocked for as
/// long as the table takes to read, which is what the recipes exist to avoid.
const SCANS: &[&str] = &["VALIDATE CONSTRAINT", "CONCURRENTLY", "$backfill$"];

fn rows() -> u64 {
    std::env::var("BLOCKING_ROWS")
        .ok()
        .map(|n| n.replace(['_', ','], "").parse().expect("BLOCKING_ROWS is a number of rows"))
        .unwrap_or(1_000_000)
}

// --- The migrations ---

const fn step(
    rev: &'static str,
    parents: &'static [&'static str],
    transactional: bool,
    upgrade: fn(&mut Op),
    downgrade: fn(&mut Op),
) -> Migration {
    support::migration(rev, parents, ("blocking", "blocking.rs"), transactional, upgrade, downgrade)
}

// 1. An index.
fn index(op: &mut Op) {
    op.create_index("ix_big_score", "big", &["score"]);
}
fn index_concurrently(op: &mut Op) {
    op.create_index("ix_big_score", "big", &["score"]).concurrently();
}
fn drop_index(op: &mut Op) {
    op.drop_index("ix_big_score");
}
static INDEX: Migration = step("b10000000001", &[], true, index, drop_index);
static INDEX_CONCURRENTLY: Migration = step("b10000000002", &[], false, index_concurrently, drop_index);

// 2. A foreign key to a small table.
fn foreign_key(op: &mut Op) {
    op.create_foreign_key("fk_big_ref", "big", "refs", &["ref_id"], &["id"]);
}
fn foreign_key_not_valid(op: &mut Op) {
    op.create_foreign_key("fk_big_ref", "big", "refs", &["ref_id"], &["id"]).not_valid();
}
fn validate_foreign_key(op: &mut Op) {
    op.validate_constraint("big", "fk_big_ref");
}
fn drop_foreign_key(op: &mut Op) {
    op.drop_constraint("big", "fk_big_ref");
}
static FOREIGN_KEY: Migration = step("b20000000001", &[], true, foreign_key, drop_foreign_key);
static FOREIGN_KEY_NOT_VALID: Migration =
    step("b20000000002", &[], true, foreign_key_not_valid, drop_foreign_key);
static FOREIGN_KEY_VALIDATE: Migration =
    step("b20000000003", &["b20000000002"], true, validate_foreign_key, nothing);

// 3. A check constraint.
fn check(op: &mut Op) {
    op.create_check_constraint("ck_big_score", "big", "score >= 0");
}
fn check_not_valid(op: &mut Op) {
    op.create_check_constraint("ck_big_score", "big", "score >= 0").not_valid();
}
fn validate_check(op: &mut Op) {
    op.validate_constraint("big", "ck_big_score");
}
fn drop_check(op: &mut Op) {
    op.drop_constraint("big", "ck_big_score");
}
static CHECK: Migration = step("b30000000001", &[], true, check, drop_check);
static CHECK_NOT_VALID: Migration = step("b30000000002", &[], true, check_not_valid, drop_check);
static CHECK_VALIDATE: Migration = step("b30000000003", &["b30000000002"], true, validate_check, nothing);

// 4. NOT NULL.
fn not_null(op: &mut Op) {
    op.alter_column("big", "email").set_not_null();
}
fn not_null_through_check(op: &mut Op) {
    op.alter_column("big", "email").set_not_null_through_check();
}
fn drop_not_null(op: &mut Op) {
    op.alter_column("big", "email").drop_not_null();
}
static NOT_NULL: Migration = step("b40000000001", &[], true, not_null, drop_not_null);
static NOT_NULL_THROUGH_CHECK: Migration =
    step("b40000000002", &[], false, not_null_through_check, drop_not_null);

// 5. A unique constraint.
fn unique(op: &mut Op) {
    op.create_unique_constraint("uq_big_code", "big", &["code"]);
}
fn unique_concurrently(op: &mut Op) {
    op.create_unique_constraint("uq_big_code", "big", &["code"]).concurrently();
}
fn drop_unique(op: &mut Op) {
    op.drop_constraint("big", "uq_big_code");
}
static UNIQUE: Migration = step("b50000000001", &[], true, unique, drop_unique);
static UNIQUE_CONCURRENTLY: Migration = step("b50000000002", &[], false, unique_concurrently, drop_unique);

// 6. integer to bigint: the type changed in place (a rewrite), or a new column filled in batches.
fn to_bigint(op: &mut Op) {
    op.alter_column("big", "n").set_type(Type::BigInt);
}
fn to_integer(op: &mut Op) {
    op.alter_column("big", "n").set_type(Type::Integer);
}
/// The expand step: the new column, then the existing rows copied into it in batches. New
/// rows are the application's (or a trigger's) to fill: the backfill is bounded to the rows
/// that were there, or it would chase the writer's.
fn bigint_column_backfilled(op: &mut Op) {
    op.add_column("big", "n_big", Type::BigInt);
    op.backfill("big", "n_big = n", &format!("n_big IS NULL AND id <= {}", rows())).batch_size(BATCH);
}
fn drop_bigint_column(op: &mut Op) {
    op.drop_column("big", "n_big");
}
static SET_TYPE: Migration = step("b60000000001", &[], true, to_bigint, to_integer);
static BIGINT_EXPAND: Migration =
    step("b60000000002", &[], false, bigint_column_backfilled, drop_bigint_column);

// 7. A column whose default is volatile: every row written at once (a rewrite), or the column
// without a default, the default set for new rows, then the existing rows filled in batches.
fn token_with_default(op: &mut Op) {
    op.add_column("big", "token", Type::Uuid).server_default(sql("gen_random_uuid()"));
}
fn token_backfilled(op: &mut Op) {
    op.add_column("big", "token", Type::Uuid);
    op.alter_column("big", "token").set_default(sql("gen_random_uuid()"));
    op.backfill("big", "token = gen_random_uuid()", "token IS NULL").batch_size(BATCH);
}
fn drop_token(op: &mut Op) {
    op.drop_column("big", "token");
}
static TOKEN_DEFAULT: Migration = step("b70000000001", &[], true, token_with_default, drop_token);
static TOKEN_BACKFILL: Migration = step("b70000000002", &[], false, token_backfilled, drop_token);

/// Each migration alone, or a recipe's two in order.
static CHAIN_INDEX: Chain = Chain::new(&[&INDEX]);
static CHAIN_INDEX_CONCURRENTLY: Chain = Chain::new(&[&INDEX_CONCURRENTLY]);
static CHAIN_FOREIGN_KEY: Chain = Chain::new(&[&FOREIGN_KEY]);
static CHAIN_FOREIGN_KEY_RECIPE: Chain = Chain::new(&[&FOREIGN_KEY_NOT_VALID, &FOREIGN_KEY_VALIDATE]);
static CHAIN_CHECK: Chain = Chain::new(&[&CHECK]);
static CHAIN_CHECK_RECIPE: Chain = Chain::new(&[&CHECK_NOT_VALID, &CHECK_VALIDATE]);
static CHAIN_NOT_NULL: Chain = Chain::new(&[&NOT_NULL]);
static CHAIN_NOT_NULL_THROUGH_CHECK: Chain = Chain::new(&[&NOT_NULL_THROUGH_CHECK]);
static CHAIN_UNIQUE: Chain = Chain::new(&[&UNIQUE]);
static CHAIN_UNIQUE_CONCURRENTLY: Chain = Chain::new(&[&UNIQUE_CONCURRENTLY]);
static CHAIN_SET_TYPE: Chain = Chain::new(&[&SET_TYPE]);
static CHAIN_BIGINT_EXPAND: Chain = Chain::new(&[&BIGINT_EXPAND]);
static CHAIN_TOKEN_DEFAULT: Chain = Chain::new(&[&TOKEN_DEFAULT]);
static CHAIN_TOKEN_BACKFILL: Chain = Chain::new(&[&TOKEN_BACKFILL]);

/// One unsafe change and its recipe.
struct Case {
    name: &'static str,
    unsafe_form: &'static Chain,
    recipe: &'static Chain,
    /// The recipe's statements that writers may wait on, each with why it is brief. Each takes
    /// a lock that conflicts with `INSERT` (ACCESS EXCLUSIVE, or SHARE ROW EXCLUSIVE for a
    /// foreign key), but reads no row and commits at once: a writer queued behind it waits
    /// for the statement and its commit, not for the table.
    brief: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "1. index",
            unsafe_form: &CHAIN_INDEX,
            recipe: &CHAIN_INDEX_CONCURRENTLY,
            // CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which INSERT never waits on.
            brief: &[],
        },
        Case {
            name: "2. foreign key",
            unsafe_form: &CHAIN_FOREIGN_KEY,
            recipe: &CHAIN_FOREIGN_KEY_RECIPE,
            // NOT VALID: the constraint is recorded, no row is read. VALIDATE, in the next
            // migration, takes SHARE UPDATE EXCLUSIVE.
            brief: &[
                r#"ALTER TABLE "big" ADD CONSTRAINT "fk_big_ref" FOREIGN KEY ("ref_id") REFERENCES "refs" ("id") NOT VALID"#,
            ],
        },
        Case {
            name: "3. check constraint",
            unsafe_form: &CHAIN_CHECK,
            recipe: &CHAIN_CHECK_RECIPE,
            brief: &[r#"ALTER TABLE "big" ADD CONSTRAINT "ck_big_score" CHECK (score >= 0) NOT VALID"#],
        },
        Case {
            name: "4. NOT NULL",
            unsafe_form: &CHAIN_NOT_NULL,
            recipe: &CHAIN_NOT_NULL_THROUGH_CHECK,
            // The helper check dropped if left, added NOT VALID, and dropped at the end; SET NOT
            // NULL reads no row once the validated check proves the column holds no NULL.
            brief: &[
                r#"ALTER TABLE "big" DROP CONSTRAINT IF EXISTS "big_email_not_null_check""#,
                r#"ALTER TABLE "big" ADD CONSTRAINT "big_email_not_null_check" CHECK ("email" IS NOT NULL) NOT VALID"#,
                r#"ALTER TABLE "big" ALTER COLUMN "email" SET NOT NULL"#,
                r#"ALTER TABLE "big" DROP CONSTRAINT "big_email_not_null_check""#,
            ],
        },
        Case {
            name: "5. unique constraint",
            unsafe_form: &CHAIN_UNIQUE,
            recipe: &CHAIN_UNIQUE_CONCURRENTLY,
            // Attaching the index built concurrently: catalog only.
            brief: &[r#"ALTER TABLE "big" ADD CONSTRAINT "uq_big_code" UNIQUE USING INDEX "uq_big_code""#],
        },
        Case {
            name: "6. integer to bigint",
            unsafe_form: &CHAIN_SET_TYPE,
            recipe: &CHAIN_BIGINT_EXPAND,
            // A nullable column without a default: catalog only.
            brief: &[r#"ALTER TABLE "big" ADD COLUMN "n_big" bigint"#],
        },
        Case {
            name: "7. uuid column, volatile default",
            unsafe_form: &CHAIN_TOKEN_DEFAULT,
            recipe: &CHAIN_TOKEN_BACKFILL,
            // The column without a default, then a default for new rows only: catalog only.
            brief: &[
                r#"ALTER TABLE "big" ADD COLUMN "token" uuid"#,
                r#"ALTER TABLE "big" ALTER COLUMN "token" SET DEFAULT gen_random_uuid()"#,
            ],
        },
    ]
}

/// The SQL of a chain's upgrade, statement by statement.
fn statements(chain: &Chain) -> Vec<String> {
    chain.iter().flat_map(|m| m.upgrade_ops().statements()).map(|s| s.sql).collect()
}

/// Each step runs outside a transaction exactly when one of its statements must.
fn marked_as_its_statements_say(chain: &Chain) {
    for migration in chain.iter() {
        let outside = migration.upgrade_ops().statements().iter().any(|s| s.no_transaction().is_some());
        assert_eq!(!migration.transactional, outside, "{}", migration.rev);
    }
}

// --- The writer and the observer ---

/// The writer's state and the observer's findings, shared with the test's thread.
#[derive(Default)]
struct Shared {
    /// Whether the writer writes (it pauses while the table is built and reset).
    writing: AtomicBool,
    /// Whether the observer polls.
    polling: AtomicBool,
    stop: AtomicBool,
    /// Each write: when it started and how long it took.
    writes: Mutex<Vec<(Instant, Duration)>>,
    /// Each time the writer was seen waiting on a lock.
    waits: Mutex<Vec<(Instant, Wait)>>,
    /// Each time it was seen waiting on something else (`IO/DataFileRead`, `LWLock/WALWrite`, …).
    others: Mutex<Vec<(Instant, String)>>,
    errors: Mutex<Vec<String>>,
}

/// The writer seen waiting on a lock.
#[derive(Clone, Debug)]
struct Wait {
    /// `wait_event`: `relation`, `transactionid`, …
    event: String,
    /// What the sessions it waited for were running, as `pg_stat_activity` shows it; none
    /// when they were gone before the observer could ask.
    blockers: Vec<String>,
}

/// The writer's statement: one row, its id from a sequence past the table's rows.
const WRITE: &str = "INSERT INTO big (id, n, ref_id, score, email, code) \
     SELECT s, s % 1000, 1 + s % 100, s % 100, 'w' || s || '@example.com', s FROM nextval('big_writes') s";

fn writer(mut client: postgres::Client, shared: &Shared) {
    let statement = client.prepare(WRITE).expect("prepares the write");
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.writing.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(2));
            continue;
        }
        let start = Instant::now();
        let result = client.execute(&statement, &[]);
        let took = start.elapsed();
        match result {
            Ok(_) => shared.writes.lock().expect("writes").push((start, took)),
            Err(e) => shared.errors.lock().expect("errors").push(format!("write: {e}")),
        }
        thread::sleep(PACE);
    }
}

/// What the writer waits on while it runs a write, if anything (not its own client, between
/// the messages of a write); when it is a lock, what each session it waits for runs.
const OBSERVE: &str = "SELECT a.wait_event_type, a.wait_event, b.query FROM pg_stat_activity a \
     LEFT JOIN LATERAL unnest(CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END) \
       AS blocker(pid) ON true \
     LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid \
     WHERE a.pid = $1 AND a.state = 'active' AND a.wait_event_type <> 'Client'";

fn observer(mut client: postgres::Client, writer_pid: i32, shared: &Shared) {
    let statement = client.prepare(OBSERVE).expect("prepares the observation");
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.polling.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(2));
            continue;
        }
        let at = Instant::now();
        match client.query(&statement, &[&writer_pid]) {
            Ok(rows) if !rows.is_empty() => {
                let kind: String = rows[0].get(0);
                let event: String = rows[0].get(1);
                if kind == "Lock" {
                    let blockers = rows.iter().filter_map(|r| r.get::<_, Option<String>>(2)).collect();
                    shared.waits.lock().expect("waits").push((at, Wait { event, blockers }));
                } else {
                    shared.others.lock().expect("others").push((at, format!("{kind}/{event}")));
                }
            }
            Ok(_) => {}
            Err(e) => shared.errors.lock().expect("errors").push(format!("observation: {e}")),
        }
        thread::sleep(Duration::from_millis(1));
    }
}

// --- Measuring ---

/// What one run of a change did to the writer.
struct Figures {
    /// The change's time: the runner's whole upgrade.
    operation: Duration,
    /// Writes that overlapped it.
    writes: usize,
    /// The longest of them.
    longest: Duration,
    /// What they took beyond an unhindered write (the median of the quiet time before).
    waited: Duration,
    /// The median write before the change.
    baseline: Duration,
    /// Each time the writer was seen waiting on a lock during the change.
    waits: Vec<Wait>,
    /// Each time it was seen waiting on something else, by what.
    others: Vec<(String, usize)>,
}

impl Figures {
    /// The statements the writer was seen waiting on, each with how many times.
    fn blockers(&self) -> Vec<(String, usize)> {
        count(self.waits.iter().flat_map(|wait| {
            // The lock's kind, unless it is the table's own (what DDL takes).
            let kind = if wait.event == TABLE { String::new() } else { format!(" ({} lock)", wait.event) };
            if wait.blockers.is_empty() {
                vec![format!("a session gone before it was read{kind}")]
            } else {
                wait.blockers.iter().map(|b| format!("{}{kind}", summary(b))).collect()
            }
        }))
    }
}

/// Each distinct name, in order of first appearance, with how many times it came.
fn count(names: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for name in names {
        match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => seen.push((name, 1)),
        }
    }
    seen
}

fn counted(seen: &[(String, usize)], quote: &str) -> String {
    if seen.is_empty() {
        return "never".to_owned();
    }
    seen.iter().map(|(s, n)| format!("{n}× {quote}{s}{quote}")).collect::<Vec<_>>().join("; ")
}

/// The statements of a query as sent: split at `;` (enough to find the DDL among the runner's
/// bookkeeping; a `DO` block is recognised whole by [`SCANS`] first).
fn split(query: &str) -> impl Iterator<Item = &str> {
    query.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// A short name for what a blocker ran: its DDL statements if it has some (without the
/// runner's bookkeeping around them), else the start of its query.
fn summary(query: &str) -> String {
    if query.contains("$backfill$") {
        return "DO $backfill$ … (the backfill)".to_owned();
    }
    let ddl: Vec<&str> =
        split(query).filter(|s| s.starts_with("ALTER TABLE \"big\"") || s.starts_with("CREATE")).collect();
    let text = if ddl.is_empty() { query.to_owned() } else { ddl.join("; ") };
    text.chars().take(240).collect()
}

fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort();
    durations.get(durations.len() / 2).copied().unwrap_or_default()
}

fn measure(shared: &Shared, migrator: &Migrator, url: &str) -> Figures {
    shared.writing.store(true, Ordering::SeqCst);
    thread::sleep(QUIET);
    shared.polling.store(true, Ordering::SeqCst);
    let start = Instant::now();
    migrator.upgrade(url, "head").unwrap_or_else(|e| panic!("{}", e.report()));
    let end = Instant::now();
    shared.polling.store(false, Ordering::SeqCst);
    // The write in flight at the end finishes unhindered.
    thread::sleep(Duration::from_millis(50));
    shared.writing.store(false, Ordering::SeqCst);
    thread::sleep(Duration::from_millis(20));

    let writes = std::mem::take(&mut *shared.writes.lock().expect("writes"));
    let waits = std::mem::take(&mut *shared.waits.lock().expect("waits"));
    let others = std::mem::take(&mut *shared.others.lock().expect("others"));
    let within = |at: &Instant| *at >= start && *at <= end;
    let baseline = median(
        writes
            .iter()
            .filter(|(at, took)| *at + *took <= start && *at + QUIET >= start)
            .map(|w| w.1)
            .collect(),
    );
    let during: Vec<Duration> =
        writes.iter().filter(|(at, took)| *at < end && *at + *took > start).map(|w| w.1).collect();
    Figures {
        operation: end - start,
        writes: during.len(),
        longest: during.iter().max().copied().unwrap_or_default(),
        waited: during.iter().map(|d| d.saturating_sub(baseline)).sum(),
        baseline,
        waits: waits.into_iter().filter(|(at, _)| within(at)).map(|w| w.1).collect(),
        others: count(others.into_iter().filter(|(at, _)| within(at)).map(|w| w.1)),
    }
}

/// Removes what a case added (its downgrade) and the writer's rows.
fn reset(client: &mut postgres::Client, migrator: &Migrator, url: &str, rows: u64) {
    migrator.downgrade(url, "base").unwrap_or_else(|e| panic!("{}", e.report()));
    client.batch_execute(&format!("DELETE FROM big WHERE id > {rows}")).expect("deletes the writer's rows");
    client.batch_execute("VACUUM big").expect("vacuums");
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 { format!("{ms:.0} ms") } else { format!("{ms:.1} ms") }
}

fn row(case: &str, form: &str, f: &Figures) -> String {
    format!(
        "| {case} | {form} | {} | {} | {} | {} | {} | {} | {} |",
        millis(f.operation),
        f.writes,
        millis(f.longest),
        millis(f.waited),
        millis(f.baseline),
        counted(&f.blockers(), "`"),
        counted(&f.others, ""),
    )
}

#[test]
fn unsafe_changes_block_writers_and_their_recipes_do_not() {
    let rows = rows();
    let database = support::database();
    let url = database.url().to_owned();
    let began = Instant::now();

    let cases = cases();
    for case in &cases {
        marked_as_its_statements_say(case.unsafe_form);
        marked_as_its_statements_say(case.recipe);
        assert_eq!(statements(case.unsafe_form).len(), 1, "{}", case.name);
        let recipe = statements(case.recipe);
        for brief in case.brief {
            assert!(
                recipe.iter().any(|s| s == brief),
                "{}: {brief} is not a statement of {recipe:#?}",
                case.name
            );
        }
    }

    let mut client = database.connect().expect("connects");
    client
        .batch_execute(&format!(
            "CREATE TABLE refs (id int PRIMARY KEY);
             INSERT INTO refs SELECT generate_series(1, 100);
             CREATE TABLE big (id bigint PRIMARY KEY, n int NOT NULL, ref_id int NOT NULL, score int NOT NULL,
                               email text, code bigint NOT NULL);
             INSERT INTO big SELECT i, i % 1000, 1 + i % 100, i % 100, 'p' || i || '@example.com', i
               FROM generate_series(1, {rows}) i;
             CREATE SEQUENCE big_writes START {};
             ANALYZE refs;
             ANALYZE big;",
            rows + 1
        ))
        .expect("builds the table");
    client.batch_execute("VACUUM big").expect("vacuums");
    // The tables predate the migrations, which start from base here: said once with the
    // empty version table, without which the first upgrade is refused.
    Migrator::new(cases[0].recipe).stamp(url.as_str(), &["base"], false).expect("stamps base");
    let built = began.elapsed();

    let shared = Arc::new(Shared::default());
    let mut writer_client = database.connect().expect("connects");
    let writer_pid: i32 = writer_client.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let observer_client = database.connect().expect("connects");
    let threads = [
        thread::spawn({
            let shared = Arc::clone(&shared);
            move || writer(writer_client, &shared)
        }),
        thread::spawn({
            let shared = Arc::clone(&shared);
            move || observer(observer_client, writer_pid, &shared)
        }),
    ];

    let mut results = Vec::new();
    for case in &cases {
        // No lock timeout: the figures are the DDL's own locks, not the runner's retries. (The
        // DDL itself only ever waits for the writer's one-row transaction.)
        let unsafe_migrator = Migrator::new(case.unsafe_form).lock_timeout(Duration::ZERO);
        let recipe_migrator = Migrator::new(case.recipe).lock_timeout(Duration::ZERO);
        let unsafe_figures = measure(&shared, &unsafe_migrator, &url);
        reset(&mut client, &unsafe_migrator, &url, rows);
        let recipe_figures = measure(&shared, &recipe_migrator, &url);
        reset(&mut client, &recipe_migrator, &url, rows);
        results.push((case, unsafe_figures, recipe_figures));
    }
    shared.stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("the writer and the observer end");
    }

    let header = "| change | form | its time | writes during it | longest write | writes' total wait | \
                  median write before | writer seen waiting on a lock (polls), held by | \
                  writer seen waiting on something else (polls) |\n\
                  |---|---|---|---|---|---|---|---|---|";
    println!(
        "\n{rows} rows, built in {:.1} s; all cases in {:.1} s\n",
        built.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    println!("{header}");
    for (case, unsafe_figures, recipe_figures) in &results {
        println!("{}", row(case.name, "unsafe", unsafe_figures));
        println!("{}", row("", "recipe", recipe_figures));
    }
    println!();

    let errors = shared.errors.lock().expect("errors");
    assert!(errors.is_empty(), "the writer or the observer failed: {errors:#?}");
    for (case, unsafe_figures, recipe_figures) in &results {
        let unsafe_statement = &statements(case.unsafe_form)[0];
        let blocked_by_it = unsafe_figures
            .waits
            .iter()
            .filter(|w| w.event == TABLE && w.blockers.iter().any(|b| b.contains(unsafe_statement.as_str())));
        assert!(
            blocked_by_it.count() > 0,
            "{}: the writer was never seen waiting on `{unsafe_statement}`; seen waiting on: {:#?}",
            case.name,
            unsafe_figures.blockers()
        );

        // A wait is allowed only on a brief statement of the recipe, never on one that reads the
        // table, and on the lock that adds a page (see EXTEND). A wait whose blockers were gone
        // before the observer's next read of the lock table lasted a moment: a statement that
        // held the writer up while reading the table would be seen at every poll.
        let allowed = |query: &str| {
            !SCANS.iter().any(|s| query.contains(s)) && split(query).any(|s| case.brief.contains(&s))
        };
        let forbidden = count(recipe_figures.waits.iter().filter(|w| w.event != EXTEND).flat_map(|w| {
            w.blockers.iter().filter(|b| !allowed(b)).map(|b| format!("`{}` ({} lock)", summary(b), w.event))
        }));
        assert!(
            forbidden.is_empty(),
            "{}: the recipe made the writer wait on a lock held by {}",
            case.name,
            counted(&forbidden, "")
        );
        // How long those brief waits lasted is recorded in the table above, not asserted: a
        // catalog-only statement can wait behind the writer's own transaction and commit with the
        // migration's, which on a loaded machine takes longer than the unsafe form's scan of a
        // small column, without ever reading the table.
    }
}

//! Replaying the compiled chain on PostgreSQL: the facade over planning ([`crate::plan`]),
//! the session and its lock ([`crate::session`]) and failure diagnosis
//! ([`crate::diagnose`]).
//!
//! A run opens one connection and, in its first round trip, sets the session up, tries the
//! migration lock and reads the database's state. With nothing to do it stops there. When
//! another runner holds the lock, it waits for it (saying who holds it) and reads the state
//! again. Then it refuses what must be refused (unknown or overlapping revisions, an
//! interrupted migration, unrecorded or edited migrations), creates the tables it lacks, and
//! applies each step: one round trip per migration that runs inside a transaction, its
//! version and history rows committed with it and checked. The lock lives as long as the
//! session, which ends with the run.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use migrate_core::chain::{Chain, Migration};
use migrate_core::graph::{Graph, NodeId};
use migrate_core::op::Statement;
use migrate_core::script::{
    Batch, LENT_RESET, Part, Piece, SESSION_SQL, Setup, Step, saved_settings_sql, set_sql,
};
use migrate_core::sql::quote_literal;
use migrate_core::sql::{Effect, effect, join_statements, no_transaction_reason, takes_no_blocking_lock};
use migrate_core::version::{Direction, Record, Tables, rows_diff};
use sha2::{Digest, Sha256};

use crate::connect::Database;
use crate::diagnose::diagnose;
use crate::engine::Engine;
use crate::error::{Error, rows_text};
use crate::newer::Newer;
use crate::plan::{Found, Plan, Planned, Planner, State};
#[cfg(feature = "tokio")]
use crate::session::IntoConnection;
use crate::session::{Conn, IntoDatabase, Lease, Outcome, Session, block_on, database};

/// Replays a chain on PostgreSQL: `Migrator::new(&MIGRATIONS).upgrade(url, "head")`.
#[derive(Clone, Debug)]
pub struct Migrator {
    chain: Chain,
    /// The revision graph, built on first use (in a run, while the connection is made).
    graph: OnceLock<Graph>,
    tables: Tables,
    lock: bool,
    lock_wait: Duration,
    /// Set for the run: for the whole session (zero: no timeout). Unset, each migration's
    /// statements get [`DEFAULT_LOCK_TIMEOUT`].
    lock_timeout: Option<Duration>,
    /// How many times a step whose statement timed out on a lock is tried again.
    lock_retries: u32,
    /// The pause before the first retry, doubled for each next one.
    lock_retry_pause: Duration,
    statement_timeout: Option<Duration>,
    one_transaction: bool,
    /// The checksum of each migration's upgrade, by node, computed once.
    compiled: OnceLock<Vec<String>>,
    /// Told of each step as it ends.
    progress: Option<fn(&StepReport)>,
    /// Told what the runner waits for or does on its own.
    notes: Option<fn(&str)>,
    /// Set to a signal's number to stop the run.
    interrupt: Option<Arc<AtomicUsize>>,
    /// The session's `search_path`, when set.
    search_path: Vec<String>,
    /// Called under the lock before a run's first change; refuses the run with an error.
    before_changes: Option<BeforeChanges>,
    /// Where a `pg_dump` backup of the target is written before a run's first change.
    backup_to: Option<PathBuf>,
    /// Whether the migration lock is a lease row instead of an advisory lock.
    lease_lock: bool,
    /// How long a lease lasts without renewal.
    lease_ttl: Duration,
    /// Whether a lease whose session is gone is free at once.
    lease_liveness: bool,
    /// Whether a downgrade reverts, with the downgrades their history stored, revisions the
    /// chain does not have.
    revert_newer: bool,
}

/// A token naming a run in the lease it holds: this process and a moment, unique enough that
/// two runs never share one.
fn lease_holder() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}-{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst))
}

/// Runs `work` while `beat` renews the run's lease, if there is one to renew.
async fn renewing<T>(beat: Option<impl Future<Output = ()>>, work: impl Future<Output = T>) -> T {
    let Some(beat) = beat else {
        return work.await;
    };
    futures_util::pin_mut!(work, beat);
    match futures_util::future::select(work, beat).await {
        futures_util::future::Either::Left((output, _)) => output,
        futures_util::future::Either::Right(((), work)) => work.await,
    }
}

/// How long a lease of the migration lock lasts without renewal, by default.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// The function of a [`Migrator::before_changes`] hook.
type Hook = dyn Fn(&Changes<'_>) -> Result<(), String> + Send + Sync;

/// A hook of [`Migrator::before_changes`].
#[derive(Clone)]
struct BeforeChanges(Arc<Hook>);

impl std::fmt::Debug for BeforeChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeChanges(..)")
    }
}

/// What a run is about to change, told to [`Migrator::before_changes`] under the migration
/// lock, before the first statement that changes anything.
#[derive(Debug)]
#[non_exhaustive]
pub struct Changes<'a> {
    /// The database, as messages name it: `user@host:port/database` (never the password),
    /// or `database <name>` on a lent connection.
    pub target: &'a str,
    /// Its connection settings; none on a lent connection.
    pub database: Option<&'a Database>,
    /// Where the run keeps its state (the schema of a schema-per-tenant target).
    pub tables: TableNames,
    /// The version rows now.
    pub before: &'a [String],
    /// The version rows after the run.
    pub after: Vec<String>,
    /// The migrations the run applies or reverts, in order.
    pub steps: Vec<&'static str>,
}

/// The `lock_timeout` of a migration's statements when neither the migration
/// (`op.lock_timeout`) nor the run ([`Migrator::lock_timeout`]) sets one: long enough for a
/// catalog change to wait out short transactions, short enough that the queue it forms
/// behind a long one (every query of the table waits behind it) does not take a service down.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// How many times a step that timed out on a lock is tried again, by default: five attempts
/// in all.
pub const DEFAULT_LOCK_RETRIES: u32 = 4;

/// The pause before the first retry of a step that timed out on a lock, by default; doubled
/// for each next retry, up to [`LOCK_RETRY_PAUSE_CAP`], each with up to half of it off at
/// random (so that runners retrying together spread out).
pub const DEFAULT_LOCK_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The longest pause between two attempts of a step (unless the first pause set is longer).
pub const LOCK_RETRY_PAUSE_CAP: Duration = Duration::from_secs(5);

/// Where the runner keeps its state: the schema of its tables, its version table (one row
/// per current revision, as Alembic's `alembic_version`) and its history table (one row per
/// step, with its checksum, times and outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNames(Tables);

impl Default for TableNames {
    /// `public.alembic_version` and `public.migrate_history`.
    fn default() -> TableNames {
        TableNames(Tables::default())
    }
}

impl TableNames {
    /// Tables `schema.version` and `schema.history`. The names are quoted where needed.
    pub fn new(schema: &str, version: &str, history: &str) -> TableNames {
        TableNames(Tables {
            schema: schema.to_owned(),
            version: version.to_owned(),
            history: history.to_owned(),
        })
    }

    /// The schema of both tables.
    pub fn schema(&self) -> &str {
        &self.0.schema
    }

    /// The version table's name.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The history table's name.
    pub fn history(&self) -> &str {
        &self.0.history
    }

    /// The lease table's name (the version table's, then `_lease`), for a lock held as a lease
    /// ([`Migrator::lease_lock`]).
    pub fn lease(&self) -> String {
        self.0.lease_name()
    }

    /// The SQL expression of the migration lock's key, per database and version table: to
    /// hold the lock by hand (`SELECT pg_advisory_lock(<key>)`), or to find the session
    /// holding it in `pg_locks`.
    pub fn lock_key_sql(&self) -> String {
        self.0.lock_key_sql()
    }
}

/// One step a run made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepReport {
    /// The migration.
    pub rev: &'static str,
    /// Its slug.
    pub slug: &'static str,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long it took, round trips included.
    pub duration: Duration,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The version rows before.
    pub before: Vec<String>,
    /// The version rows after.
    pub after: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<StepReport>,
    /// The connections the run opened (none on a lent one).
    pub connections: usize,
    /// The queries it sent, each one round trip (connecting aside).
    pub round_trips: usize,
    /// The backup written before the first change ([`Migrator::backup_to`]).
    pub backup: Option<PathBuf>,
}

/// A migration of the chain, as the database knows it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The migration.
    pub migration: &'static Migration,
    /// Whether it is applied (it or a later revision is a version row).
    pub applied: bool,
    /// Whether it is a version row.
    pub current: bool,
}

/// The SHA-256 of a migration's SQL, in hex: what the history records and compares. Line
/// endings do not count: `\r\n` hashes as `\n`, so a checkout that turned an included SQL
/// file's endings into CRLF (git's `autocrlf`) renders the checksum an LF checkout recorded.
pub fn checksum(statements: &[Statement]) -> String {
    let mut hasher = Sha256::new();
    for statement in statements {
        // The seal's reading of line endings, so that both call the same edits no change
        // (a copy only of SQL that holds a `\r`).
        hasher.update(migrate_core::seal::unix_line_endings(&statement.sql).as_bytes());
        hasher.update(b";\n");
    }
    hex(hasher)
}

/// The checksum of a migration's SQL as written, `\r\n` included: what a history recorded
/// before line endings stopped counting. `None` when no statement holds a `\r`, where it is
/// [`checksum`] itself.
pub(crate) fn raw_checksum(statements: &[Statement]) -> Option<String> {
    if !statements.iter().any(|s| s.sql.contains('\r')) {
        return None;
    }
    let mut hasher = Sha256::new();
    for statement in statements {
        hasher.update(statement.sql.as_bytes());
        hasher.update(b";\n");
    }
    Some(hex(hasher))
}

/// A digest in lowercase hex.
fn hex(hasher: Sha256) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = hasher.finalize();
    let mut text = String::with_capacity(64);
    for byte in digest.iter() {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 15)]));
    }
    text
}

/// A stamp record that keeps the checksum a revision already recorded: a stamp records where
/// the database stands; it does not accept an edited migration.
fn kept<'a>(record: Record<'a>, checksums: &'a std::collections::BTreeMap<String, String>) -> Record<'a> {
    match checksums.get(record.rev) {
        Some(sum) => Record { checksum: Some(sum.as_str()), ..record },
        None => record,
    }
}

/// How a piece that failed on a lock was tried.
struct Tries {
    /// How many times it was sent.
    attempts: usize,
    /// Who held the lock its last attempt waited for, when seen.
    blocked_by: Vec<String>,
}

/// A timeout as PostgreSQL takes it, in milliseconds (1 at least: 0 turns it off).
fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// Puts the step `number`'s setting `sql` first in `batch`, the positions of its statements
/// moved on.
fn prepend(batch: &mut Batch, number: usize, sql: &str) {
    let head = join_statements(&[sql]);
    let shift = head.chars().count();
    batch.text.insert_str(0, &head);
    for (start, _, _) in &mut batch.positions {
        *start += shift;
    }
    batch.ordinals.insert(0, Some((number, None)));
}

/// Puts the step `number`'s setting `sql` last in `batch`.
fn append(batch: &mut Batch, number: usize, sql: &str) {
    batch.text.push_str(&join_statements(&[sql]));
    batch.ordinals.push(Some((number, None)));
}

/// The script of a run's `pieces`, for `--sql`, as the runner sends them
/// ([`Migrator::lift_default`]), written as [`Tables::script`](migrate_core::version::Tables::script)
/// writes a plan's.
fn script_of(steps: &[Step<'_>], pieces: &[Piece]) -> String {
    migrate_core::script::script_of(steps, pieces)
}

/// Whether a piece failed on a lock not granted: `lock_timeout`, or `NOWAIT`.
fn lock_not_available(outcome: &Outcome) -> bool {
    outcome.error.as_ref().and_then(|e| e.code())
        == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

/// Sleeps `pause`, waking every 50 ms to look for an interrupt; false when one came.
async fn pause_unless_interrupted(session: &Session<'_>, pause: Duration) -> bool {
    let end = Instant::now() + pause;
    loop {
        if session.interrupted().is_some() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

/// A number in [0, 1), different at each call: the jitter of retry pauses (the standard
/// library's hasher keys are random per process and per hasher).
pub(crate) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    // 53 bits: exactly representable.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What the first read of a session says of the server: whether it can be written, the
/// database's name (for a lent connection's messages), and which engine it is.
const SERVER_SQL: &str = "SELECT pg_catalog.pg_is_in_recovery(), current_setting('default_transaction_read_only'), \
     current_setting('transaction_read_only'), current_database(), version(), \
     (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'citus')";

/// The server, as [`SERVER_SQL`] read it.
#[derive(Clone, Debug, Default)]
struct Server {
    /// Why no run may change it: a standby, or read-only transactions; none when it can.
    read_only: Option<&'static str>,
    /// `current_database()`.
    database: String,
    /// The engine, from `version()` and the `citus` extension.
    engine: Engine,
}

impl Server {
    fn read(row: Option<&Vec<Option<String>>>) -> Server {
        let on = |i: usize| {
            row.and_then(|r| r.get(i)).and_then(Option::as_deref).is_some_and(|v| v == "t" || v == "on")
        };
        let read_only = if on(0) {
            Some("it is a standby in recovery (pg_is_in_recovery())")
        } else if on(1) {
            Some("its transactions are read-only (default_transaction_read_only is on)")
        } else if on(2) {
            Some("its transactions are read-only (transaction_read_only is on)")
        } else {
            None
        };
        let text = |i: usize| row.and_then(|r| r.get(i)).cloned().flatten();
        let engine = Engine::detect(&text(4).unwrap_or_default(), text(5).as_deref());
        Server { read_only, database: text(3).unwrap_or_default(), engine }
    }
}

/// What the first read of a session found.
struct Read {
    /// The server (read by a session's first read only).
    server: Server,
    state: State,
    /// Whether the session holds the migration lock.
    locked: bool,
    /// Whether the bookkeeping statements are prepared in the session.
    prepared: bool,
}

impl Migrator {
    /// A migrator for `chain`, with the defaults: tables `public.alembic_version` and
    /// `public.migrate_history`, the migration lock on with a minute's wait for it, one
    /// transaction per migration.
    pub fn new(chain: &Chain) -> Migrator {
        Migrator {
            chain: *chain,
            graph: OnceLock::new(),
            tables: Tables::default(),
            lock: true,
            lock_wait: Duration::from_secs(60),
            lock_timeout: None,
            lock_retries: DEFAULT_LOCK_RETRIES,
            lock_retry_pause: DEFAULT_LOCK_RETRY_PAUSE,
            statement_timeout: None,
            one_transaction: false,
            compiled: OnceLock::new(),
            progress: None,
            notes: None,
            interrupt: None,
            search_path: Vec::new(),
            before_changes: None,
            backup_to: None,
            lease_lock: false,
            lease_ttl: DEFAULT_LEASE_TTL,
            lease_liveness: true,
            revert_newer: false,
        }
    }

    /// Lets a downgrade revert revisions this chain does not have (off by default): after
    /// the code is rolled back, an older binary meets a database a newer release migrated.
    /// Every upgrade stores its migration's downgrade, as SQL, with its history row; with
    /// this on, `downgrade` runs those stored downgrades, newest first, then the chain's own
    /// down to the target (whose `head` is this chain's). Off, such a downgrade is refused
    /// ([`Error::Newer`]) with the SQL it would run, for a person to read first. A stored
    /// downgrade that is irreversible stays so; a revision whose history stored none (stamped,
    /// or applied before downgrades were stored) is refused ([`Error::NotStored`]). Each
    /// stored downgrade is shown as a note ([`Migrator::on_note`]) before it runs.
    pub fn revert_newer(mut self, yes: bool) -> Migrator {
        self.revert_newer = yes;
        self
    }

    /// Holds the migration lock as a lease: a row of the table `<version table>_lease` beside
    /// the version table (`alembic_version_lease`), naming the run that holds it, instead of a PostgreSQL advisory lock
    /// (off by default): for servers without advisory locks, and anywhere a session-level
    /// lock cannot be held. Runners wait for each other as with the advisory lock, and a
    /// runner of either kind waits for one holding the other. The lease is given back when the
    /// run ends; the lease of a runner that died is free as soon as its session is gone from
    /// `pg_stat_activity` ([`Migrator::lease_liveness`]), else when it expires
    /// ([`Migrator::lease_ttl`]), a second session renewing it meanwhile.
    pub fn lease_lock(mut self, yes: bool) -> Migrator {
        self.lease_lock = yes;
        self
    }

    /// How long a lease lasts without renewal (default 30 s): where the server cannot tell
    /// that its holder's session ended, a dead runner's lease is free after that. A run on a
    /// connection of its own renews it every third of that from a second session; a run on a
    /// lent connection cannot, and must end within it.
    pub fn lease_ttl(mut self, ttl: Duration) -> Migrator {
        self.lease_ttl = ttl.clamp(Duration::from_millis(100), Duration::from_secs(86_400));
        self
    }

    /// Whether a lease whose session is gone from `pg_stat_activity` is free at once (on by
    /// default, as on PostgreSQL, where an advisory lock is released when its session ends);
    /// off, only its expiry frees it: for servers whose `pg_stat_activity` shows only the
    /// sessions of the node you are connected to.
    pub fn lease_liveness(mut self, yes: bool) -> Migrator {
        self.lease_liveness = yes;
        self
    }

    /// Sets the session's `search_path` to `schemas`, in order (quoted as needed), for the
    /// whole run: unqualified names in migrations are created in the first. A schema-per-tenant
    /// target sets its schema first and the shared ones after (`["tenant_42", "public"]`), with
    /// [`Migrator::tables`] in the tenant's schema. Then a database without the version table
    /// is refused as not fresh only for what it holds in the first schema.
    pub fn search_path(mut self, schemas: &[&str]) -> Migrator {
        self.search_path = schemas.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Calls `hook` under the migration lock before a run changes anything (and only when it
    /// will), with what it is about to do; an `Err` refuses the run ([`Error::Refused`]),
    /// nothing changed. Runs after [`Migrator::backup_to`]'s backup.
    pub fn before_changes(
        mut self,
        hook: impl Fn(&Changes<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Migrator {
        self.before_changes = Some(BeforeChanges(Arc::new(hook)));
        self
    }

    /// Writes a `pg_dump` backup (custom format, restored with `pg_restore`) of the target
    /// into the folder `dir` under the migration lock before a run changes anything, named
    /// with the target and the revision it is at: `<host>_<port>_<database>[_<schema>]-<revisions>-<UTC
    /// time>.dump`. With a search path set ([`Migrator::search_path`], a schema per tenant),
    /// its first schema (and the tables' schema) only. A backup that fails refuses the run ([`Error::Backup`]),
    /// nothing changed; the file (readable by its owner alone) is named in [`Report::backup`].
    /// `pg_dump` comes from `PATH`, else from `pg_config --bindir`; it must be as new as the
    /// server; it waits for a table's lock at most [`Migrator::lock_wait`], and an interrupt
    /// stops it. A lent connection cannot be backed up (its settings are unknown): the run is
    /// refused.
    pub fn backup_to(mut self, dir: impl Into<PathBuf>) -> Migrator {
        self.backup_to = Some(dir.into());
        self
    }

    /// Uses other names or another schema for the version and history tables.
    pub fn tables(mut self, tables: TableNames) -> Migrator {
        self.tables = tables.0;
        self
    }

    /// Whether to hold the migration lock (on by default), so that runners started together
    /// wait for each other. Without it, every step still checks the version rows it changes
    /// and rolls back when another runner got there first, but concurrent runners fail
    /// instead of waiting, and a step outside a transaction that another runner is running
    /// is refused as if it had been interrupted (see the refusal before following its way
    /// out). A run needs one session either way (it prepares statements): a pooler in
    /// transaction mode cannot serve it.
    pub fn lock(mut self, yes: bool) -> Migrator {
        self.lock = yes;
        self
    }

    /// How long to wait for another runner to release the migration lock.
    pub fn lock_wait(mut self, wait: Duration) -> Migrator {
        self.lock_wait = wait;
        self
    }

    /// `lock_timeout` for every statement of the run (a migration's own setting wins), the
    /// runner's own included (the claim and the end of a step outside a transaction);
    /// `Duration::ZERO` turns it off: statements wait for locks as long as it takes. Unset,
    /// each migration's statements get a lock timeout of 2 s, and the runner's own
    /// wait as the server's settings say.
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = Some(timeout);
        self
    }

    /// How many times to try a step again when a statement of it waited longer than
    /// `lock_timeout` for a lock (SQLSTATE 55P03), after pauses of
    /// [`Migrator::lock_retry_pause`], doubling: default 4 (so five
    /// attempts); 0 fails at the first. A step inside a transaction was rolled back and is
    /// run again whole; outside one, the statement that failed is run again (the ones before
    /// it stay applied), after dropping an INVALID index its build left. Each retry is told
    /// to [`Migrator::on_note`]; the step is recorded once, when it succeeds or when the
    /// last attempt fails ([`Error::Blocked`], naming the sessions that held the lock).
    pub fn lock_retries(mut self, retries: u32) -> Migrator {
        self.lock_retries = retries;
        self
    }

    /// The pause before the first retry of a step that timed out on a lock (default 250 ms),
    /// doubled for each next one up to 5 s, each with up to half of it off at random.
    pub fn lock_retry_pause(mut self, pause: Duration) -> Migrator {
        self.lock_retry_pause = pause;
        self
    }

    /// `statement_timeout` for every statement of the run (a migration's own setting wins).
    pub fn statement_timeout(mut self, timeout: Duration) -> Migrator {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Runs all the migrations of a run in one transaction instead of one each: all or
    /// nothing (the version and history tables included, when the run creates them), and
    /// the fastest; refused when a migration cannot run inside a transaction.
    pub fn one_transaction(mut self, yes: bool) -> Migrator {
        self.one_transaction = yes;
        self
    }

    /// Calls `progress` as each step ends, for long runs (in one-transaction mode, the run
    /// ends as a whole and the steps are reported together at its end).
    pub fn on_step(mut self, progress: fn(&StepReport)) -> Migrator {
        self.progress = Some(progress);
        self
    }

    /// Calls `note` with what the runner waits for or does on its own: waiting for the
    /// lock (every few seconds, naming the session holding it), trying a step again after a
    /// lock timeout (naming the session that held the lock), dropping an invalid index before
    /// retrying its build.
    pub fn on_note(mut self, note: fn(&str)) -> Migrator {
        self.notes = Some(note);
        self
    }

    /// Stops the run when `flag` becomes non-zero (a signal handler sets it to the
    /// signal's number, as `signal_hook::flag::register_usize` does): the statement running is
    /// cancelled, its transaction rolls back, and the run returns [`Error::Interrupted`],
    /// saying where the database stands.
    pub fn interrupt_on(mut self, flag: Arc<AtomicUsize>) -> Migrator {
        self.interrupt = Some(flag);
        self
    }

    /// How many connections a run may hold at once: its session, a second one watching who
    /// blocks a waiting statement, `pg_dump`'s for a backup, and one renewing a lease that
    /// only expires.
    pub(crate) fn connections_per_run(&self) -> usize {
        2 + usize::from(self.backup_to.is_some())
            + usize::from(self.lock && self.lease_lock && !self.lease_liveness)
    }

    /// This migrator without its step and note hooks (a fan-out run reports per target).
    #[cfg(feature = "cli")]
    pub(crate) fn silenced(mut self) -> Migrator {
        self.progress = None;
        self.notes = None;
        self
    }

    /// Whether the flag of [`Migrator::interrupt_on`] is set.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.interrupt.as_ref().is_some_and(|flag| flag.load(std::sync::atomic::Ordering::SeqCst) != 0)
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The tables.
    pub fn table_names(&self) -> TableNames {
        TableNames(self.tables.clone())
    }

    /// The version table as messages name it: `public.alembic_version`.
    fn version_name(&self) -> String {
        format!("{}.{}", self.tables.schema, self.tables.version)
    }

    fn note(&self, text: &str) {
        if let Some(note) = self.notes {
            note(text);
        }
    }

    /// The run's own settings, in force for the whole session.
    fn run_settings(&self) -> Vec<(&'static str, String)> {
        let mut settings = Vec::new();
        match self.lock_timeout {
            Some(Duration::ZERO) => settings.push(("lock_timeout", "0".to_owned())),
            Some(d) => settings.push(("lock_timeout", ms(d))),
            None => {}
        }
        if let Some(d) = self.statement_timeout {
            settings.push(("statement_timeout", ms(d)));
        }
        settings
    }

    /// [`Migrator::run_settings`] as statements.
    fn session_settings(&self) -> Vec<String> {
        self.run_settings().into_iter().map(|(name, value)| set_sql(name, &value)).collect()
    }

    /// What the first round trip of a session sets: on a borrowed one, the lender's settings
    /// that would change what migrations do reset ([`LENT_RESET`]); the run's own settings;
    /// then [`SESSION_SQL`].
    fn first_settings(&self, borrowed: bool) -> Vec<String> {
        let mut statements: Vec<String> =
            if borrowed { LENT_RESET.map(str::to_owned).to_vec() } else { Vec::new() };
        statements.extend(self.session_settings());
        if !self.search_path.is_empty() {
            let names: Vec<String> =
                self.search_path.iter().map(|s| migrate_core::sql::quote_ident(s)).collect();
            statements.push(format!(
                "SELECT set_config('search_path', {}, false)",
                migrate_core::sql::quote_literal_always(&names.join(", "))
            ));
        }
        statements.extend(SESSION_SQL.map(str::to_owned));
        statements
    }

    /// The settings a step runs with: its migration's own, and, when it sets no
    /// `lock_timeout`, the run's default: [`DEFAULT_LOCK_TIMEOUT`] unless the run sets one.
    /// The default is the step's own (`SET LOCAL` after the version table's lock, or around
    /// the statements of a step outside a transaction), so that it never bounds the runner's
    /// own waits; a timeout set for the run is the session's already, and is repeated only
    /// inside a transaction (where it costs nothing, and where, in one transaction for the
    /// run, an earlier migration's own setting would otherwise last). Outside a transaction,
    /// when the step's first statement takes no lock that blocks reads or writes, the default
    /// is lifted for it: `lock_timeout` 0 ([`Migrator::lifted`]).
    fn step_settings(&self, planned: &Planned) -> Vec<(&'static str, String)> {
        let mut settings = planned.settings.clone();
        if settings.iter().any(|(name, _)| *name == "lock_timeout") {
            return settings;
        }
        match self.lock_timeout {
            None if self.lifted(planned, 0) => settings.insert(0, ("lock_timeout", "0".to_owned())),
            None => settings.insert(0, ("lock_timeout", ms(DEFAULT_LOCK_TIMEOUT))),
            Some(Duration::ZERO) if planned.transactional => {
                settings.insert(0, ("lock_timeout", "0".to_owned()));
            }
            Some(d) if planned.transactional => settings.insert(0, ("lock_timeout", ms(d))),
            Some(_) => {}
        }
        settings
    }

    /// Whether the statements of `planned` that set no timeout of their own get the default
    /// one: it runs outside a transaction (inside one, a step takes the default as a whole),
    /// and neither it (`op.lock_timeout`) nor the run ([`Migrator::lock_timeout`]) sets one.
    fn outside_with_default(&self, planned: &Planned) -> bool {
        !planned.transactional
            && self.lock_timeout.is_none()
            && !planned.settings.iter().any(|(name, _)| *name == "lock_timeout")
    }

    /// Whether the `index`-th statement of `planned` runs without the default lock timeout
    /// (`lock_timeout` 0): in a step [`Migrator::outside_with_default`], a statement that
    /// takes no lock blocking reads or writes of its table, even while it waits
    /// ([`takes_no_blocking_lock`]: a concurrent index build, drop or reindex, a lone
    /// `VALIDATE CONSTRAINT`). Nobody queues behind such a wait, and a concurrent build
    /// waits, through lock waits, for every older transaction (a report query): bounded, it
    /// would fail whenever one is open. The step's other statements keep the default.
    fn lifted(&self, planned: &Planned, index: usize) -> bool {
        self.outside_with_default(planned)
            && planned.statements.get(index).is_some_and(|statement| takes_no_blocking_lock(&statement.sql))
    }

    /// The pieces of a run, with the default lock timeout lifted for the statements
    /// [`Migrator::lifted`] picks and put back after them. The step's settings already set
    /// `lock_timeout` 0 when its first statement is lifted ([`Migrator::step_settings`]); where
    /// the timeout changes between two statements, `SET lock_timeout` goes into the round trip
    /// of the lifted `VALIDATE CONSTRAINT` that starts or ends the change (before it or after
    /// it: one `ALTER TABLE` runs the same in a batch), or, next to a statement that must run
    /// alone (a concurrent index build) or that the runner does not know safe in a batch (any
    /// other statement, which may be a `CALL` that commits), into a round trip of its own.
    /// The step's reset then puts back the run's value, as for any step.
    fn lift_default(&self, pieces: Vec<Piece>, steps: &[Planned]) -> Vec<Piece> {
        let default = set_sql("lock_timeout", &ms(DEFAULT_LOCK_TIMEOUT));
        let off = set_sql("lock_timeout", "0");
        let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
        // Whether the default is in force for the step being sent, before its next statement.
        let mut in_force = true;
        for mut piece in pieces {
            let Some((number, planned)) = piece.step.and_then(|n| steps.get(n).map(|planned| (n, planned)))
            else {
                out.push(piece);
                continue;
            };
            match piece.part {
                Part::Claim => in_force = !self.lifted(planned, 0),
                Part::Statement(index) if self.outside_with_default(planned) => {
                    let lifted = self.lifted(planned, index);
                    if lifted == in_force {
                        let set = if lifted { &off } else { &default };
                        // A lifted statement that may run in a batch: a lone VALIDATE CONSTRAINT.
                        let batched = |i: usize| {
                            self.lifted(planned, i)
                                && planned
                                    .statements
                                    .get(i)
                                    .is_some_and(|s| no_transaction_reason(&s.sql).is_none())
                        };
                        let previous = out.last_mut().filter(|p| {
                            index > 0 && p.step == Some(number) && p.part == Part::Statement(index - 1)
                        });
                        match previous {
                            _ if batched(index) => prepend(&mut piece.batch, number, set),
                            Some(previous) if batched(index - 1) => append(&mut previous.batch, number, set),
                            _ => {
                                let mut batch = Batch::default();
                                append(&mut batch, number, set);
                                out.push(Piece { step: Some(number), part: Part::Settings, batch });
                            }
                        }
                        in_force = !lifted;
                    }
                }
                _ => {}
            }
            out.push(piece);
        }
        out
    }

    /// The longest a statement of `planned` waits for a lock, none when it may wait forever.
    fn step_lock_timeout(&self, planned: &Planned) -> Option<Duration> {
        let own = planned.settings.iter().find(|(name, _)| *name == "lock_timeout").map(|(_, value)| {
            value.strip_suffix("ms").and_then(|ms| ms.parse::<u64>().ok()).map(Duration::from_millis)
        });
        match own {
            Some(own) => own.filter(|d| !d.is_zero()),
            None => Some(self.lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT)).filter(|d| !d.is_zero()),
        }
    }

    /// The longest the statements of `piece` wait for a lock: its step's (none for a
    /// statement [`Migrator::lifted`]), or in one transaction for the run the shortest of them.
    fn piece_lock_timeout(&self, piece: &Piece, steps: &[Planned]) -> Option<Duration> {
        // A statement run without the default waits as long as it takes.
        let lifted = |n: usize| match piece.part {
            Part::Statement(index) => steps.get(n).is_some_and(|planned| self.lifted(planned, index)),
            _ => false,
        };
        match piece.step {
            Some(n) if lifted(n) => None,
            Some(n) => steps.get(n).and_then(|planned| self.step_lock_timeout(planned)),
            None => steps.iter().filter_map(|planned| self.step_lock_timeout(planned)).min(),
        }
    }

    /// The revision graph of the chain.
    pub(crate) fn graph(&self) -> &Graph {
        self.graph.get_or_init(|| self.chain.graph())
    }

    /// Every migration's checksum, by node.
    pub(crate) fn compiled(&self) -> &[String] {
        self.compiled
            .get_or_init(|| self.chain.iter().map(|m| checksum(&m.upgrade_ops().statements())).collect())
    }

    /// The planner of a script, without a server: PostgreSQL's transactions.
    fn planner(&self) -> Planner<'_> {
        Planner {
            chain: &self.chain,
            graph: self.graph(),
            compiled: self.compiled(),
            transactional_ddl: true,
            stored: &crate::plan::NONE_STORED,
            own: None,
        }
    }

    /// The planner of a run on `session`'s server, following its engine's profile.
    fn planner_on(&self, session: &Session<'_>) -> Planner<'_> {
        Planner { transactional_ddl: session.engine.profile().transactional_ddl, ..self.planner() }
    }

    fn migration(&self, node: NodeId) -> &'static Migration {
        self.chain.migrations()[node]
    }

    fn revs(&self, nodes: &[NodeId]) -> Vec<String> {
        self.graph().revs_of(nodes).into_iter().map(str::to_owned).collect()
    }

    /// Reads the state in one round trip: with `first`, after the session's settings;
    /// with `lock`, after trying the lock; with `prepare`, followed by the bookkeeping
    /// statements' preparation. A database missing a table takes a second round trip.
    async fn read(
        &self,
        session: &mut Session<'_>,
        first: bool,
        lock: bool,
        prepare: bool,
    ) -> Result<Read, Error> {
        let mut statements: Vec<String> = Vec::new();
        // On a borrowed connection, what the run changes is read first, to be put back.
        let save = first && session.is_borrowed();
        if save {
            statements.push(saved_settings_sql());
        }
        if first {
            statements.extend(self.first_settings(session.is_borrowed()));
        }
        // The session's server process, for the watch of who blocks its statements.
        let pid_at = first.then_some(statements.len());
        if first {
            statements.push("SELECT pg_backend_pid()".to_owned());
            statements.push(SERVER_SQL.to_owned());
            statements.push(self.tables.lease_exists_sql());
        }
        let lock_at = statements.len();
        if lock {
            statements.push(self.tables.try_lock_sql());
        }
        let state_at = statements.len();
        statements.extend(self.tables.state_sql());
        if prepare {
            statements.extend(self.tables.prepare_sql());
        }
        let mut outcome = session.send(&join_statements(&statements)).await;
        if let Some(pid) = pid_at.and_then(|at| outcome.value(at)).and_then(|pid| pid.parse().ok()) {
            session.pid = Some(pid);
        }
        let server = pid_at.map_or_else(Server::default, |at| {
            Server::read(outcome.rows.get(at + 1).and_then(|rows| rows.first()))
        });
        // Known even when the batch failed further on (a lock function the engine lacks).
        if let Some(at) = pid_at {
            if outcome.rows.len() > at + 1 {
                session.engine = server.engine;
            }
            if outcome.rows.len() > at + 2 {
                session.lease_table = outcome.value(at + 2) == Some("t");
            }
        }
        let locked = !lock || outcome.value(lock_at) == Some("t");
        session.held |= lock && outcome.value(lock_at) == Some("t");
        if save && let Some(row) = outcome.rows.first().and_then(|rows| rows.first()) {
            session.saved = Some(row.clone());
        }
        match outcome.error.take() {
            None => {
                let rows = |i: usize| outcome.rows.get(state_at + i).cloned().unwrap_or_default();
                let state = State::read(&rows(0), &rows(1), &rows(2));
                Ok(Read { server, state, locked, prepared: prepare })
            }
            Some(error)
                if prepare
                    && outcome.completed() >= state_at + 3
                    && error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) =>
            {
                // A history table made before downgrades were stored: the state was read; the
                // setup adds the columns under the lock, then prepares. The batch's settings
                // were rolled back with its implicit transaction (not the lock, nor the
                // statements prepared before the failing one, which go).
                let prepared = outcome.completed().saturating_sub(state_at + 3);
                let mut again: Vec<String> =
                    self.tables.deallocate_sql().iter().take(prepared).map(|s| (*s).to_owned()).collect();
                if first {
                    again.extend(self.first_settings(session.is_borrowed()));
                }
                if !again.is_empty() {
                    session
                        .send(&join_statements(&again))
                        .await
                        .ok()
                        .map_err(database("cannot set up the session"))?;
                }
                let rows = |i: usize| outcome.rows.get(state_at + i).cloned().unwrap_or_default();
                let state = State { old_history: true, ..State::read(&rows(0), &rows(1), &rows(2)) };
                Ok(Read { server, state, locked, prepared: false })
            }
            Some(error)
                if outcome.completed() >= state_at
                    && error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) =>
            {
                // The batch's implicit transaction rolled its settings back (not the lock, a
                // session's): they go again with the catalog's query.
                let settings = if first { self.first_settings(session.is_borrowed()) } else { Vec::new() };
                let state = self.read_partial(session, settings).await?;
                Ok(Read { server, state, locked, prepared: false })
            }
            Some(error) => Err(database("cannot read the version table")(error)),
        }
    }

    /// The state of a database missing one table or both: fresh, managed by Alembic, or
    /// holding what another tool or someone else made (read in the same round trip, and only
    /// when the version table is missing).
    async fn read_partial(
        &self,
        session: &mut Session<'_>,
        mut statements: Vec<String>,
    ) -> Result<State, Error> {
        let at = statements.len();
        statements.push(self.tables.exist_sql());
        statements.extend(self.tables.found_sql(self.search_path.first().map(String::as_str)));
        let found = session
            .send(&join_statements(&statements))
            .await
            .ok()
            .map_err(database("cannot read the catalog"))?;
        let flag =
            |i: usize| found.rows.get(at).and_then(|r| r.first()).and_then(|r| r.get(i)).cloned().flatten();
        let rows = |i: usize| found.rows.get(at + i).cloned().unwrap_or_default();
        let mut state = State {
            version_table: flag(0).as_deref() == Some("t"),
            history_table: flag(1).as_deref() == Some("t"),
            found: Found::read(&rows(1), &rows(2)),
            ..State::default()
        };
        if state.history_table && !state.version_table {
            let outcome = session
                .send(&self.tables.history_count_sql())
                .await
                .ok()
                .map_err(database("cannot read the history table"))?;
            state.orphan_history = outcome.value(0).is_some_and(|n| n != "0");
        }
        if state.version_table {
            let [rows, _, _] = self.tables.state_sql();
            let outcome =
                session.send(&rows).await.ok().map_err(database("cannot read the version table"))?;
            state.rows = State::read(&outcome.rows[0], &Vec::new(), &Vec::new()).rows;
        }
        Ok(state)
    }

    /// Opens the session of a run that changes the database and reads the state, the lock
    /// taken when free; a database that cannot be written (a standby, read-only
    /// transactions) is refused there, before anything is attempted.
    async fn open<'a>(&self, conn: Conn<'a>) -> Result<(Session<'a>, Read), Error> {
        if self.search_path.first().is_some_and(|schema| schema == "$user") {
            return Err(Error::Unsupported {
                engine: "PostgreSQL",
                what: "a search path whose first schema is named `$user` (a schema per tenant)".to_owned(),
                why: "PostgreSQL reads `$user` in a search path as the schema named after the role, so the \
                      migrations' objects would land elsewhere"
                    .to_owned(),
            });
        }
        let mut session = Session::open(conn, self.interrupt.clone()).await?;
        // The advisory lock is tried by the first read, unless the lock is a lease.
        let mut first = self.read(&mut session, true, self.lock && !self.lease_lock, true).await;
        let profile = session.engine.profile();
        if self.lock && !profile.advisory_lock {
            // The engine's advisory lock locks nothing (or is missing, failing the first read,
            // which is then made again without it): the lock is a lease alone.
            if std::mem::take(&mut session.held) {
                let _ = session.send(&self.tables.unlock_sql()).await;
            }
            if first.is_err() {
                first = self.read(&mut session, true, false, true).await;
            }
        }
        let leased = self.lock && (self.lease_lock || !profile.advisory_lock);
        if !leased && session.held && session.lease_table {
            // A runner holding the lease (another setting) excludes this one as the advisory
            // lock would: the lock goes back, to be waited for.
            let live = session.send(&self.tables.lease_live_sql()).await;
            if live.error.is_none() && live.value(0) == Some("t") {
                session.give_back_lock(&self.tables, false).await;
                first = first.map(|read| Read { locked: false, ..read });
            } else if let Ok(read) = first {
                // The first read may have waited behind a lease holder's step, which has ended
                // since: what it read is read again, under the lock.
                first = match self.read(&mut session, false, false, false).await {
                    Ok(again) => Ok(Read { state: again.state, ..read }),
                    Err(error) => Err(error),
                };
            }
        }
        if leased {
            let lease = Lease { liveness: self.lease_liveness && profile.sees_every_session, ..self.lease() };
            if !lease.liveness && session.is_borrowed() {
                let error = Error::LentConnection {
                    reason:
                        "the migration lock is a lease that only expires, which a run on a lent connection \
                             cannot renew while a step lasts"
                            .to_owned(),
                };
                return Err(session.release(&self.tables, error).await);
            }
            session.lease = Some(lease);
        }
        if first.is_ok() && session.engine != Engine::PostgreSql {
            self.note(&format!("{} detected: {}", session.engine.name(), profile.summary()));
            if let Err(error) = self.engine_settings(&mut session, profile.settings).await {
                return Err(session.release(&self.tables, error).await);
            }
            if self.one_transaction && !profile.transactional_ddl {
                let error = Error::Unsupported {
                    engine: session.engine.name(),
                    what: "running every migration in one transaction".to_owned(),
                    why: "its transactions do not hold schema changes atomically".to_owned(),
                };
                return Err(session.release(&self.tables, error).await);
            }
        }
        match first {
            Ok(read) => match read.server.read_only {
                Some(why) => {
                    let error = Error::ReadOnly {
                        target: self.target_name(&session, &read.server),
                        why: why.to_owned(),
                    };
                    Err(session.release(&self.tables, error).await)
                }
                // The lease is taken after the first read, which tells whether it can be.
                None if leased => Ok((session, Read { locked: false, ..read })),
                None => Ok((session, read)),
            },
            Err(error) => Err(session.release(&self.tables, error).await),
        }
    }

    /// The lease a run of this migrator holds as its lock.
    fn lease(&self) -> Lease {
        Lease {
            holder: lease_holder(),
            ttl: self.lease_ttl,
            liveness: self.lease_liveness,
            taken: Arc::default(),
            lost: Arc::default(),
        }
    }

    /// Sets the engine's session settings (put back on a lent connection when the run ends).
    async fn engine_settings(
        &self,
        session: &mut Session<'_>,
        settings: &[(&'static str, &'static str)],
    ) -> Result<(), Error> {
        if settings.is_empty() {
            return Ok(());
        }
        let set: Vec<String> = settings
            .iter()
            .map(|(name, value)| {
                format!("set_config({}, {}, false)", quote_literal(name), quote_literal(value))
            })
            .collect();
        session
            .send(&format!("SELECT {}", set.join(", ")))
            .await
            .ok()
            .map_err(database("cannot set the engine's settings"))?;
        Ok(())
    }

    /// Holds the lock (waiting for it when the first read did not get it), and returns the
    /// state read under it.
    async fn locked(&self, session: &mut Session<'_>, read: Read) -> Result<Read, Error> {
        if read.locked {
            return Ok(read);
        }
        let note = |text: &str| self.note(text);
        session.lock(&self.tables, self.lock_wait, &note).await?;
        let again = self.read(session, false, false, !read.prepared).await?;
        Ok(Read {
            server: read.server,
            locked: true,
            prepared: read.prepared || again.prepared,
            state: again.state,
        })
    }

    /// Applies migrations up to `target` (`head`, `heads`, `+1`, a revision, …) on the
    /// database `db`: a connection string, a [`Database`](crate::Database) or a `tokio_postgres::Config`.
    pub fn upgrade(&self, db: impl IntoDatabase, target: &str) -> Result<Report, Error> {
        self.upgrade_blocking(db.into_database()?, target)
    }

    // The generic faces only convert their argument: the run itself is compiled once, here,
    // not again in every crate that calls it (which cost a crate of 1,000 migrations seconds
    // of its release rebuild).
    fn upgrade_blocking(&self, db: Database, target: &str) -> Result<Report, Error> {
        self.blocking(self.upgrade_on(Conn::Open(db), target))
    }

    fn downgrade_blocking(&self, db: Database, target: &str) -> Result<Report, Error> {
        self.blocking(self.downgrade_on(Conn::Open(db), target))
    }

    fn stamp_blocking(&self, db: Database, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.blocking(self.stamp_on(Conn::Open(db), targets, purge))
    }

    fn accept_blocking(&self, db: Database, revs: &[&str]) -> Result<(), Error> {
        self.blocking(self.accept_checksums_on(Conn::Open(db), revs))
    }

    fn current_blocking(&self, db: Database) -> Result<Vec<String>, Error> {
        block_on(self.current_on(Conn::Open(db)))?
    }

    /// Reverts migrations down to `target` (`-1`, `base`, a revision, …).
    pub fn downgrade(&self, db: impl IntoDatabase, target: &str) -> Result<Report, Error> {
        self.downgrade_blocking(db.into_database()?, target)
    }

    pub(crate) async fn upgrade_on(&self, conn: Conn<'_>, target: &str) -> Result<Report, Error> {
        self.run(conn, false, |planner, current| planner.upgrade(current, target)).await
    }

    pub(crate) async fn downgrade_on(&self, conn: Conn<'_>, target: &str) -> Result<Report, Error> {
        self.run(conn, true, |planner, current| planner.downgrade(current, target)).await
    }

    /// Runs `future`, an operation of the asynchronous core, for the synchronous API: on a
    /// runtime of its own, while another thread builds the revision graph and renders every
    /// migration for its checksum (the CPU of a run with nothing to do).
    fn blocking<T: Send>(&self, future: impl Future<Output = Result<T, Error>> + Send) -> Result<T, Error> {
        std::thread::scope(|scope| {
            let rendering = scope.spawn(|| {
                self.graph();
                self.compiled();
            });
            let output = block_on(future);
            let _ = rendering.join();
            output?
        })
    }

    /// Plans with `plan` and runs the plan; a downgrade (`down`) plans over the revisions a
    /// newer release applied too ([`Migrator::revert_newer`]). A borrowed connection is given
    /// back as it was lent when the run ends (the lock released, the prepared statements
    /// dropped, the settings put back); a connection of its own closes.
    async fn run(
        &self,
        conn: Conn<'_>,
        down: bool,
        plan: impl Fn(&Planner<'_>, &[NodeId]) -> Result<Plan, Error> + Send + Sync,
    ) -> Result<Report, Error> {
        let (mut session, read) = self.open(conn).await?;
        let beat = self.heartbeat(&session);
        let result = renewing(beat, self.run_in(&mut session, read, down, plan)).await;
        session.finish(&self.tables, result).await
    }

    /// What renews the session's lease while the run holds it, where only its expiry would
    /// free it (a lease whose session's end is seen needs none): a second session renewing it
    /// every third of its time to live. None on a lent connection, whose settings are unknown.
    fn heartbeat(&self, session: &Session<'_>) -> Option<impl Future<Output = ()> + Send + use<>> {
        let lease = session.lease.clone().filter(|lease| !lease.liveness)?;
        let database = session.database()?.clone();
        let (renew, table, notes) = (
            self.tables.lease_renew_sql(&lease.holder, lease.ttl_ms()),
            self.tables.lease_table(),
            self.notes,
        );
        Some(async move {
            let mut client: Option<tokio_postgres::Client> = None;
            let mut renewed_at: Option<Instant> = None;
            let mut said = false;
            let say = |text: String| {
                if let Some(note) = notes {
                    note(&text);
                }
            };
            loop {
                tokio::time::sleep(lease.ttl / 3).await;
                if !lease.taken.load(std::sync::atomic::Ordering::SeqCst) || lease.lost.load(Ordering::SeqCst)
                {
                    continue;
                }
                // Taken since the last tick at the earliest.
                let since = *renewed_at.get_or_insert_with(|| {
                    Instant::now().checked_sub(lease.ttl / 3).unwrap_or_else(Instant::now)
                });
                if client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
                    client = database.connect().await.map_err(|e| e.to_string()).map_or_else(
                        |e| {
                            if !std::mem::replace(&mut said, true) {
                                say(format!("cannot renew the migration lease in {table}: {e}"));
                            }
                            None
                        },
                        Some,
                    );
                }
                let renewed = match &client {
                    Some(renewer) => renewer.simple_query(&renew).await.ok().and_then(|messages| {
                        messages.into_iter().find_map(|message| match message {
                            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(|n| n != "0"),
                            _ => None,
                        })
                    }),
                    None => None,
                };
                match renewed {
                    Some(true) => renewed_at = Some(Instant::now()),
                    Some(false) => {
                        lease.lost.store(true, Ordering::SeqCst);
                        say(format!(
                            "the migration lease in {table} was taken over after it expired: the run stops before its \
                             next step"
                        ));
                    }
                    // Not renewed for two thirds of its life: it may expire before the next try.
                    None if since.elapsed() >= lease.ttl * 2 / 3 => {
                        lease.lost.store(true, Ordering::SeqCst);
                        say(format!(
                            "the migration lease in {table} could not be renewed in time: the run stops before its \
                             next step"
                        ));
                    }
                    None => client = None,
                }
            }
        })
    }

    /// The run's database as messages name it: the connection's target, or on a lent
    /// connection the database's name.
    fn target_name(&self, session: &Session<'_>, server: &Server) -> String {
        session.target().map_or_else(|| format!("database {}", server.database), str::to_owned)
    }

    async fn run_in(
        &self,
        session: &mut Session<'_>,
        read: Read,
        down: bool,
        plan: impl Fn(&Planner<'_>, &[NodeId]) -> Result<Plan, Error> + Send + Sync,
    ) -> Result<Report, Error> {
        {
            let planner = self.planner_on(session);
            // Nothing to do, nothing wrong: done, whoever holds the lock.
            if let Ok(current) = planner.verify(&read.state)
                && let Ok(plan) = plan(&planner, &current)
                && plan.steps.is_empty()
            {
                return Ok(Report {
                    before: read.state.rows.clone(),
                    after: read.state.rows,
                    steps: Vec::new(),
                    connections: usize::from(!session.is_borrowed()),
                    round_trips: session.trips,
                    backup: None,
                });
            }
            let read = self.locked(session, read).await?;
            // Revisions a newer release applied: a downgrade plans over them too, with the
            // downgrades their history stored.
            let unknown: Vec<String> =
                read.state.rows.iter().filter(|rev| self.graph().node(rev).is_none()).cloned().collect();
            let newer = match down && !unknown.is_empty() && read.state.history_table {
                true => Some(self.newer(session, &read.state, &unknown).await?),
                false => None,
            };
            let planner = match &newer {
                Some(newer) => newer.planner(&planner),
                None => planner,
            };
            let current = match planner.verify(&read.state) {
                Ok(current) => current,
                Err(error) => return Err(self.explain(session, &planner, &read.state, error).await),
            };
            let plan = plan(&planner, &current)?;
            if let Some(newer) = &newer
                && plan.steps.iter().any(|step| step.stored)
            {
                if !self.revert_newer {
                    return Err(newer.refusal(&unknown, &plan.steps));
                }
                for shown in crate::newer::shown(&plan.steps) {
                    self.note(&format!(
                        "reverting {shown}\n  (a revision this binary does not know, with the downgrade the history stored when it was applied)"
                    ));
                }
            }
            if !plan.steps.is_empty() {
                read.state.check_fresh(&self.version_name())?;
            }
            if self.one_transaction {
                planner.check_one_transaction(&plan.steps)?;
            }
            let setup = self.setup(&read, &current);
            let after = planner.revs(&plan.rows);
            let backup = self.before_first_change(session, &read, &plan, &after).await?;
            let steps = self.execute(session, &plan, &setup).await?;
            Ok(Report {
                before: read.state.rows,
                after,
                steps,
                connections: usize::from(!session.is_borrowed()) + session.watchers,
                round_trips: session.trips,
                backup,
            })
        }
    }

    /// What runs under the lock before a run's first change, when it has steps: the backup
    /// ([`Migrator::backup_to`], whose file it returns), then the hook
    /// ([`Migrator::before_changes`]). Either refuses the run.
    async fn before_first_change(
        &self,
        session: &Session<'_>,
        read: &Read,
        plan: &Plan,
        after: &[String],
    ) -> Result<Option<PathBuf>, Error> {
        if plan.steps.is_empty() {
            return Ok(None);
        }
        // A lease that only expires is renewed from a second session: one that cannot be
        // opened now (a connection limit) would let it expire under the first step.
        if let (Some(_), Some(database)) =
            (session.lease.as_ref().filter(|l| !l.liveness), session.database())
            && let Err(error) = database.connect().await
        {
            return Err(Error::LeaseLost {
                table: self.tables.lease_table(),
                left: format!(
                    "nothing was changed: the second session that renews it cannot connect ({})",
                    error.to_string().lines().next().unwrap_or_default()
                ),
            });
        }
        if self.backup_to.is_none() && self.before_changes.is_none() {
            return Ok(None);
        }
        let target = self.target_name(session, &read.server);
        let mut backup = None;
        if let Some(dir) = &self.backup_to {
            let refused = |reason: String| Error::Backup { target: target.clone(), reason };
            let database = session.database().ok_or_else(|| {
                refused(
                    "the run is on a lent connection, whose settings pg_dump would need are unknown; pass a \
                     connection string"
                        .to_owned(),
                )
            })?;
            // A schema-per-tenant target: its schema (the search path's first) and the tables'.
            let mut schemas: Vec<String> = self.search_path.iter().take(1).cloned().collect();
            if !schemas.is_empty() && !schemas.contains(&self.tables.schema) {
                schemas.push(self.tables.schema.clone());
            }
            let bounds =
                crate::backup::Bounds { lock_wait: self.lock_wait, interrupt: self.interrupt.clone() };
            let file = crate::backup::dump(database, &schemas, dir, &read.state.rows, bounds)
                .await
                .map_err(refused)?;
            backup = Some(file);
        }
        if let Some(hook) = &self.before_changes {
            let changes = Changes {
                target: &target,
                database: session.database(),
                tables: self.table_names(),
                before: &read.state.rows,
                after: after.to_vec(),
                steps: plan.steps.iter().map(|planned| planned.migration.rev).collect(),
            };
            (hook.0)(&changes).map_err(|reason| Error::Refused { target: target.clone(), reason })?;
        }
        Ok(backup)
    }

    /// The chain extended with the revisions `unknown` (version rows it does not have) and
    /// what they stand on, read from the history under the lock.
    async fn newer(
        &self,
        session: &mut Session<'_>,
        state: &State,
        unknown: &[String],
    ) -> Result<Newer, Error> {
        let own: Vec<&str> = self.chain.iter().map(|m| m.rev).collect();
        let outcome = session
            .send(&self.tables.stored_sql(&own))
            .await
            .ok()
            .map_err(database("cannot read the downgrades the history stored"))?;
        let rows = outcome.rows.into_iter().next().unwrap_or_default();
        Newer::read(&self.chain, self.compiled(), state, unknown, &rows)
    }

    /// What a run prepares before its first step: the tables it lacks, the bookkeeping
    /// statements when the first read could not prepare them, and for a database that has
    /// version rows but no history (adopted from Alembic), the revisions it has, recorded
    /// as stamped with the checksums of this chain.
    fn setup(&self, read: &Read, current: &[NodeId]) -> Setup<'_> {
        let state = &read.state;
        let adopt = if state.history_table {
            Vec::new()
        } else {
            let applied = self.graph().ancestors(current);
            self.graph().linear().iter().copied().filter(|&n| applied[n]).map(|n| self.stamped(n)).collect()
        };
        Setup {
            create_tables: !state.has_tables(),
            add_columns: state.has_tables() && state.old_history,
            prepare: !read.prepared,
            adopt,
            settings: self.run_settings(),
        }
    }

    /// The history record of stamping `node`: with its checksum, the SQL this chain has
    /// for it is what the database is taken to hold.
    fn stamped(&self, node: NodeId) -> Record<'_> {
        let migration = self.migration(node);
        Record {
            rev: migration.rev,
            slug: migration.slug,
            direction: Direction::Stamp,
            checksum: Some(&self.compiled()[node]),
            undo: None,
        }
    }

    async fn execute(
        &self,
        session: &mut Session<'_>,
        plan: &Plan,
        setup: &Setup<'_>,
    ) -> Result<Vec<StepReport>, Error> {
        let settings: Vec<Vec<(&'static str, String)>> =
            plan.steps.iter().map(|planned| self.step_settings(planned)).collect();
        let steps: Vec<Step<'_>> = plan
            .steps
            .iter()
            .zip(&settings)
            .map(|(planned, settings)| Step { settings, ..planned.step() })
            .collect();
        let pieces = self.lift_default(self.tables.program(&steps, setup, self.one_transaction), &plan.steps);
        let mut reports = Vec::with_capacity(steps.len());
        let run_start = Instant::now();
        let mut step_start = Instant::now();
        for (at, piece) in pieces.iter().enumerate() {
            // The statement the piece runs or comes before (0-based), in a step outside a
            // transaction.
            let next = pieces[at..]
                .iter()
                .take_while(|p| p.step == piece.step)
                .find_map(|p| match p.part {
                    Part::Statement(index) if p.step == piece.step => Some(index),
                    _ => None,
                })
                .unwrap_or(0);
            // Between steps, a lease lost stops the run where it stands, as an interrupt does.
            if session.lease.as_ref().is_some_and(|lease| lease.lost.load(Ordering::SeqCst))
                && matches!(piece.part, Part::Step | Part::Claim)
                && let Some(next) = piece.step.and_then(|n| plan.steps.get(n))
            {
                return Err(Error::LeaseLost {
                    table: self.tables.lease_table(),
                    left: format!("the database is at {}", rows_text(&next.rows)),
                });
            }
            // Between steps, an interrupt stops the run where it stands: at the rows the next
            // step starts from.
            if let Some(signal) = session.interrupted()
                && matches!(piece.part, Part::Step | Part::Claim)
                && let Some(next) = piece.step.and_then(|n| plan.steps.get(n))
            {
                let left = format!("the database is at {}", rows_text(&next.rows));
                return Err(Error::Interrupted { signal, rev: None, left });
            }
            if matches!(piece.part, Part::Step | Part::Claim) {
                step_start = Instant::now();
            }
            // Inside a step outside a transaction, an interrupt stops before the next statement;
            // once they all ran, the end is recorded whatever happens.
            if let (Some(signal), Part::Settings | Part::Statement(_), Some(planned)) =
                (session.interrupted(), piece.part, piece.step.and_then(|n| plan.steps.get(n)))
            {
                let next = next + 1;
                let rev = planned.migration.rev;
                let before = if next == 1 { "none of them ran" } else { "the ones before stay applied" };
                let left = format!(
                    "{rev} runs outside a transaction and was stopped before its statement {next} of {}: {before}, \
                     and the next run refuses it until it is cleared (the refusal says how)",
                    planned.statements.len()
                );
                return Err(Error::Interrupted { signal, rev: Some(rev.to_owned()), left });
            }
            let (outcome, tries) = match piece.part {
                Part::Reset | Part::End => (session.send_whole(&piece.batch.text).await, None),
                Part::Step | Part::Statement(_) => self.attempts(session, piece, &plan.steps).await?,
                _ => (session.send(&piece.batch.text).await, None),
            };
            if outcome.error.is_some() {
                let error = self.failed(session, piece, &plan.steps, outcome, tries).await;
                return Err(self.interrupted(session, piece, next, &plan.steps, error));
            }
            let ended = match piece.part {
                Part::End => piece.step,
                Part::Step => piece.step,
                _ => None,
            };
            if let Some(planned) = ended.and_then(|n| plan.steps.get(n)) {
                self.report(&mut reports, planned, step_start.elapsed());
            }
        }
        if self.one_transaction && !plan.steps.is_empty() {
            let each = run_start.elapsed() / u32::try_from(plan.steps.len()).unwrap_or(u32::MAX);
            for planned in &plan.steps {
                self.report(&mut reports, planned, each);
            }
        }
        Ok(reports)
    }

    /// A failure caused by an interrupt, said as such: what the interrupted piece left (`next`:
    /// the statement it runs or comes before, in a step outside a transaction).
    fn interrupted(
        &self,
        session: &Session<'_>,
        piece: &Piece,
        next: usize,
        steps: &[Planned],
        error: Error,
    ) -> Error {
        let Some(signal) = session.interrupted() else {
            return error;
        };
        if piece.part == Part::Setup {
            let left = "it was creating the version and history tables: nothing ran".to_owned();
            return Error::Interrupted { signal, rev: None, left };
        }
        // The step that was running: the piece's own, or in one transaction the one the
        // failure names.
        let failed = match &error {
            Error::MigrationFailed(failure) | Error::Blocked { failure, .. } => {
                steps.iter().find(|s| s.migration.rev == failure.rev)
            }
            _ => None,
        };
        let Some(planned) = piece.step.and_then(|n| steps.get(n)).or(failed) else {
            let left = "the run's transaction was rolled back: nothing of it stays".to_owned();
            return Error::Interrupted { signal, rev: None, left };
        };
        let rev = planned.migration.rev.to_owned();
        let before = rows_text(&planned.rows);
        let left = match piece.part {
            Part::Claim => format!("nothing of {rev} ran: the database is at {before}"),
            Part::Settings if next == 0 => format!(
                "{rev} runs outside a transaction and was stopped before its first statement; its start is recorded, so \
                 the next run refuses it until it is cleared (the refusal says how)"
            ),
            Part::Settings => format!(
                "{rev} runs outside a transaction and was stopped before its statement {} of {}: the ones before stay \
                 applied, and the next run refuses it until it is cleared (the refusal says how)",
                next + 1,
                planned.statements.len()
            ),
            Part::Statement(index) => format!(
                "{rev} runs outside a transaction and was stopped at its statement {} of {}: {}, and the next run \
                 refuses it until it is cleared (the refusal says how)",
                index + 1,
                planned.statements.len(),
                if index == 0 { "none before it ran" } else { "the ones before stay applied" }
            ),
            Part::Reset | Part::End => format!(
                "every statement of {rev} ran (outside a transaction), but its end was not recorded: the next run \
                 refuses it and says how to record it"
            ),
            _ if self.one_transaction => {
                let start = rows_text(steps.first().map_or(&[][..], |s| s.rows.as_slice()));
                format!("the run's transaction was rolled back: the database is at {start}")
            }
            _ => format!("{rev} was rolled back: the database is at {before}"),
        };
        Error::Interrupted { signal, rev: Some(rev), left }
    }

    fn report(&self, reports: &mut Vec<StepReport>, planned: &Planned, duration: Duration) {
        let report = StepReport {
            rev: planned.migration.rev,
            slug: planned.migration.slug,
            direction: planned.direction,
            duration,
        };
        if let Some(progress) = self.progress {
            progress(&report);
        }
        reports.push(report);
    }

    /// Sends a piece that runs a migration's statements (a step inside a transaction, or a
    /// statement of one outside), watching who blocks it, and tries it again while it fails
    /// on a lock (SQLSTATE 55P03, `lock_timeout`), up to [`Migrator::lock_retries`] times
    /// after growing pauses: a step inside a transaction was rolled back whole and runs again
    /// whole; a statement outside one runs again alone (after the drop of an INVALID index
    /// its failed build left). Gives the last outcome, with, when it failed on a lock, how
    /// many attempts were made and who blocked the last one. An interrupt ends the retries.
    async fn attempts(
        &self,
        session: &mut Session<'_>,
        piece: &Piece,
        steps: &[Planned],
    ) -> Result<(Outcome, Option<Tries>), Error> {
        let timeout = self.piece_lock_timeout(piece, steps);
        let mut attempt = 1;
        loop {
            let blocked = match (piece.part, piece.step.and_then(|n| steps.get(n))) {
                (Part::Statement(index), Some(planned)) => {
                    self.drop_invalid_index(session, planned, index, timeout).await?
                }
                _ => None,
            };
            let (outcome, blocked_by) = match blocked {
                Some(blocked) => blocked,
                None => session.send_watched(&piece.batch.text, timeout).await,
            };
            if !lock_not_available(&outcome) {
                return Ok((outcome, None));
            }
            let tries = Tries { attempts: attempt, blocked_by };
            let retries = usize::try_from(self.lock_retries).unwrap_or(usize::MAX);
            if attempt > retries || session.is_closed() || session.interrupted().is_some() {
                return Ok((outcome, Some(tries)));
            }
            if piece.part == Part::Step {
                // The failed transaction is still open: its end rolls it back.
                let _ = session.send("ROLLBACK").await;
            }
            let pause = self.retry_pause(attempt);
            self.note(&self.retry_note(piece, steps, &outcome, &tries, pause, retries + 1));
            if !pause_unless_interrupted(session, pause).await {
                return Ok((outcome, Some(tries)));
            }
            attempt += 1;
        }
    }

    /// The pause after the `attempt`-th attempt failed on a lock: the first pause doubled
    /// for each attempt after the first, up to the cap, less up to half of it at random.
    fn retry_pause(&self, attempt: usize) -> Duration {
        let cap = LOCK_RETRY_PAUSE_CAP.max(self.lock_retry_pause);
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(u32::MAX).min(16);
        let full = self.lock_retry_pause.saturating_mul(1 << doublings).min(cap);
        full.mul_f64(1.0 - jitter() / 2.0)
    }

    /// What [`Migrator::on_note`] is told of a retry.
    fn retry_note(
        &self,
        piece: &Piece,
        steps: &[Planned],
        outcome: &Outcome,
        tries: &Tries,
        pause: Duration,
        attempts: usize,
    ) -> String {
        let numbered = piece.batch.statement_numbered(outcome.completed());
        let planned = numbered.map(|(n, _)| n).or(piece.step).and_then(|n| steps.get(n));
        let what = match planned {
            Some(planned) => {
                let statement = match numbered.and_then(|(_, index)| index) {
                    Some(index) => format!("its statement {} of {}", index + 1, planned.statements.len()),
                    None => "a statement of its step".to_owned(),
                };
                format!(
                    "{} {} ({}): {statement}",
                    planned.direction.as_str(),
                    planned.migration.rev,
                    planned.migration.slug
                )
            }
            None => "the run".to_owned(),
        };
        let blocked = if tries.blocked_by.is_empty() {
            String::new()
        } else {
            format!(", held by {}", tries.blocked_by.join("; "))
        };
        let again = if piece.part == Part::Step {
            "rolled back; the step runs again"
        } else {
            "the statement runs again (the ones before it stay applied)"
        };
        format!(
            "{what} timed out waiting for a lock{blocked}; attempt {} of {attempts} failed: {again} in {} ms",
            tries.attempts,
            pause.as_millis()
        )
    }

    /// The error of a piece that failed, after rolling back what it left open and recording
    /// the failure in history (when the connection still stands). `tries`, for a failure
    /// on a lock, makes it [`Error::Blocked`].
    async fn failed(
        &self,
        session: &mut Session<'_>,
        piece: &Piece,
        steps: &[Planned],
        outcome: Outcome,
        tries: Option<Tries>,
    ) -> Error {
        let completed = outcome.completed();
        let Some(error) = outcome.error else {
            return Error::Runtime("a piece of the run failed without an error".to_owned());
        };
        let error = match (diagnose(&self.tables, piece, completed, steps, error), tries) {
            (Error::MigrationFailed(failure), Some(tries)) => {
                Error::Blocked { failure, attempts: tries.attempts, blocked_by: tries.blocked_by }
            }
            (error, _) => error,
        };
        if session.is_closed() {
            return error;
        }
        let mut cleanup = String::from("ROLLBACK;\n");
        // A claim that failed did not commit: nothing of its step ran, nothing to record.
        if piece.part != Part::Claim
            && let Error::MigrationFailed(failure) | Error::Blocked { failure, .. } = &error
            && let Some(planned) = steps.iter().find(|s| s.migration.rev == failure.rev)
        {
            let mut message = if failure.after_statements {
                format!("{}{}", migrate_core::version::ENDED, failure.message)
            } else {
                failure.message.clone()
            };
            // The history keeps who blocked it by pid only: a query of another session may
            // hold what a table that outlives the run should not.
            if let Error::Blocked { attempts, blocked_by, .. } = &error {
                let pids: Vec<&str> = blocked_by
                    .iter()
                    .filter_map(|b| {
                        b.strip_prefix("pid ").map(|rest| rest.split([' ', ',']).next().unwrap_or(rest))
                    })
                    .collect();
                message.push_str(&format!(" ({attempts} attempts"));
                if !pids.is_empty() {
                    message.push_str(&format!("; blocked by pid {}", pids.join(", ")));
                }
                message.push(')');
            }
            cleanup.push_str(&self.tables.failed_sql(&planned.step().record(), &message));
            cleanup.push(';');
        }
        let _ = session.send(&cleanup).await;
        error
    }

    /// Before a concurrent index build, drops the INVALID index of the same name on the
    /// same table that an earlier, failed or interrupted build left: the build would fail
    /// on it (or, with `IF NOT EXISTS`, keep it, invalid).
    /// When the drop times out on a lock (it waits for every transaction using the table),
    /// gives its outcome and who blocked it, to stand for the build's: the build is tried
    /// again as if it had failed so.
    async fn drop_invalid_index(
        &self,
        session: &mut Session<'_>,
        planned: &Planned,
        index: usize,
        timeout: Option<Duration>,
    ) -> Result<Option<(Outcome, Vec<String>)>, Error> {
        let Some(find) =
            planned.statements.get(index).and_then(|s| effect(&s.sql)).and_then(|e| e.invalid_index_sql())
        else {
            return Ok(None);
        };
        let found = session.send(&find).await.ok().map_err(database("cannot look for an invalid index"))?;
        if let Some(index) = found.value(0) {
            self.note(&format!(
                "dropping the index {index}, left INVALID by an earlier build of {} that failed or was interrupted, before building it again",
                planned.migration.rev
            ));
            let (outcome, blocked_by) = session.send_watched(&Effect::drop_index_sql(index), timeout).await;
            if lock_not_available(&outcome) {
                return Ok(Some((outcome, blocked_by)));
            }
            outcome.ok().map_err(database("cannot drop an invalid index"))?;
        }
        Ok(None)
    }

    /// Completes a refusal as dirty with what the step's statements left, read from the
    /// catalog under the lock (so after the interrupted runner's backend ended), and the way
    /// out that fits: when its last statement took effect, every statement ran, and the way
    /// out records it; otherwise, run it again.
    async fn explain(
        &self,
        session: &mut Session<'_>,
        planner: &Planner<'_>,
        state: &State,
        error: Error,
    ) -> Error {
        let Error::Dirty(mut unfinished) = error else {
            return error;
        };
        let Some((planned, _)) = planner.interrupted(state) else {
            return Error::Dirty(unfinished);
        };
        let effects: Vec<Option<Effect>> = planned.statements.iter().map(|s| effect(&s.sql)).collect();
        let known: Vec<&Effect> = effects.iter().flatten().collect();
        if known.is_empty() {
            return Error::Dirty(unfinished);
        }
        let query: Vec<String> = known.iter().map(|e| e.state_sql()).collect();
        let Ok(outcome) = session.send(&join_statements(&query)).await.ok() else {
            return Error::Dirty(unfinished);
        };
        let states: Vec<&str> = (0..known.len()).map(|i| outcome.value(i).unwrap_or("unknown")).collect();
        let last_took_effect = match (effects.last(), states.last()) {
            (Some(Some(last)), Some(state)) => last.took_effect(state),
            _ => false,
        };
        unfinished.left = known.iter().zip(&states).map(|(e, s)| e.describe(s)).collect();
        // Statements run in order: when the last one took effect, all of them ran.
        unfinished.finished |= last_took_effect;
        Error::Dirty(unfinished)
    }

    /// Sets the version rows to `targets` without running migrations (`base` or nothing:
    /// none), as Alembic's stamp does; with `purge`, every row goes first, unknown ones too.
    /// Records in history each target (or `base`) and every revision the new rows imply
    /// that was never recorded, with the checksum of this chain's SQL: what records where a
    /// database built outside migrate stands, and what clears an interrupted migration once
    /// the schema is repaired.
    pub fn stamp(&self, db: impl IntoDatabase, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.stamp_blocking(db.into_database()?, targets, purge)
    }

    pub(crate) async fn stamp_on(
        &self,
        conn: Conn<'_>,
        targets: &[&str],
        purge: bool,
    ) -> Result<Report, Error> {
        let (mut session, read) = self.open(conn).await?;
        let beat = self.heartbeat(&session);
        let result = renewing(beat, self.stamp_in(&mut session, read, targets, purge)).await;
        session.finish(&self.tables, result).await
    }

    async fn stamp_in(
        &self,
        session: &mut Session<'_>,
        read: Read,
        targets: &[&str],
        purge: bool,
    ) -> Result<Report, Error> {
        let read = self.locked(session, read).await?;
        let planner = self.planner_on(session);
        let before = if purge { Vec::new() } else { planner.nodes(&read.state.rows)? };
        let mut nodes = Vec::new();
        // `label@base` takes away the rows of that branch alone: the rows left once it and what
        // depends on it were reverted.
        let mut staying = before.clone();
        let mut cleared = false;
        for target in targets {
            let resolved = self.graph().resolve_str_in(target, &before)?;
            match resolved.branch {
                Some(branch) if resolved.nodes.is_empty() => {
                    let root = self.graph().branch_root(branch);
                    let gone = self.graph().remove_path(&staying, &[root], &[]);
                    staying = self.graph().heads_after(&staying, &gone, false);
                    cleared = true;
                }
                _ => nodes.extend(resolved.nodes),
            }
        }
        // Targets on one line (one implies the other) would be overlapping rows.
        planner.nodes(&self.revs(&nodes))?;
        let after =
            if nodes.is_empty() && cleared { staying } else { self.graph().stamp_rows(&staying, &nodes) };
        let mut sql = Vec::new();
        if purge {
            sql.push(format!("DELETE FROM {}", self.tables.version_table()));
        }
        for change in rows_diff(self.graph(), &before, &after) {
            sql.push(self.tables.row_change_sql(&change));
        }
        let checksums = &read.state.checksums;
        let mut recorded: Vec<Record<'_>> = nodes.iter().map(|&n| kept(self.stamped(n), checksums)).collect();
        if nodes.is_empty() {
            recorded.push(Record {
                rev: "base",
                slug: "base",
                direction: Direction::Stamp,
                checksum: None,
                undo: None,
            });
        }
        let implied = self.graph().ancestors(&after);
        for &node in self.graph().linear() {
            if implied[node]
                && !nodes.contains(&node)
                && !read.state.checksums.contains_key(self.migration(node).rev)
            {
                recorded.push(self.stamped(node));
            }
        }
        sql.extend(recorded.iter().map(|r| self.tables.history_done_sql(r)));
        self.commit(session, &read.state, &sql, "cannot stamp the version table").await?;
        Ok(Report {
            before: read.state.rows,
            after: self.revs(&after),
            steps: Vec::new(),
            connections: usize::from(!session.is_borrowed()),
            round_trips: session.trips,
            backup: None,
        })
    }

    /// Records the SQL the given applied migrations render now as the checksum they ran with:
    /// for an edit that changes nothing the database holds.
    pub fn accept_checksums(&self, db: impl IntoDatabase, revs: &[&str]) -> Result<(), Error> {
        self.accept_blocking(db.into_database()?, revs)
    }

    pub(crate) async fn accept_checksums_on(&self, conn: Conn<'_>, revs: &[&str]) -> Result<(), Error> {
        let (mut session, read) = self.open(conn).await?;
        let beat = self.heartbeat(&session);
        let result = renewing(beat, self.accept_in(&mut session, read, revs)).await;
        session.finish(&self.tables, result).await
    }

    async fn accept_in(&self, session: &mut Session<'_>, read: Read, revs: &[&str]) -> Result<(), Error> {
        let read = self.locked(session, read).await?;
        let planner = self.planner_on(session);
        planner.dirty(&read.state)?;
        let applied = self.graph().ancestors(&planner.nodes(&read.state.rows)?);
        let mut sql = Vec::new();
        for rev in revs {
            let node = self.graph().lookup(rev)?;
            if !applied[node] {
                return Err(Error::NotApplied { rev: self.migration(node).rev.to_owned() });
            }
            let migration = self.migration(node);
            sql.push(self.tables.history_done_sql(&Record {
                rev: migration.rev,
                slug: migration.slug,
                direction: Direction::Accept,
                checksum: Some(&self.compiled()[node]),
                undo: None,
            }));
        }
        self.commit(session, &read.state, &sql, "cannot record the accepted checksums").await
    }

    /// Sends `statements` in one transaction holding the version table's lock, after
    /// creating the tables the database lacks.
    async fn commit(
        &self,
        session: &mut Session<'_>,
        state: &State,
        statements: &[String],
        context: &'static str,
    ) -> Result<(), Error> {
        let sql = self.tables.locked_transaction_sql(!state.has_tables(), statements);
        session.send(&sql).await.ok().map(|_| ()).map_err(database(context))
    }

    /// The database's version rows (an empty list for a database never migrated).
    pub fn current(&self, db: impl IntoDatabase) -> Result<Vec<String>, Error> {
        self.current_blocking(db.into_database()?)
    }

    pub(crate) async fn current_on(&self, conn: Conn<'_>) -> Result<Vec<String>, Error> {
        let mut session = Session::open(conn, None).await?;
        let rows = self.read(&mut session, false, false, false).await.map(|read| read.state.rows);
        session.finish(&self.tables, rows).await
    }

    /// Whether the database is at the chain's heads, exactly.
    pub fn is_at_heads(&self, db: impl IntoDatabase) -> Result<bool, Error> {
        Ok(self.are_heads(&self.current(db)?))
    }

    /// Whether version rows read with [`Migrator::current`] are the chain's heads, exactly.
    pub fn are_heads(&self, rows: &[String]) -> bool {
        let mut rows = rows.to_vec();
        rows.sort();
        let mut heads: Vec<String> = self.revs(&self.graph().heads());
        heads.sort();
        rows == heads
    }

    /// The chain in order, each migration marked applied or not.
    pub fn history(&self, db: impl IntoDatabase) -> Result<Vec<HistoryEntry>, Error> {
        self.history_of(&self.current(db)?)
    }

    /// [`Migrator::history`] of the version rows `rows`.
    fn history_of(&self, rows: &[String]) -> Result<Vec<HistoryEntry>, Error> {
        let current = self.planner().nodes(rows)?;
        let applied = self.graph().ancestors(&current);
        Ok(self
            .graph()
            .linear()
            .iter()
            .map(|&n| HistoryEntry {
                migration: self.migration(n),
                applied: applied[n],
                current: current.contains(&n),
            })
            .collect())
    }

    /// The SQL of upgrading from `from` (`base`, a revision) to `to`, without a database:
    /// what `upgrade --sql` prints, the same pieces an online run sends. From `base`, the
    /// script creates the tables first.
    pub fn upgrade_sql(&self, from: &str, to: &str) -> Result<String, Error> {
        let current = self.graph().resolve_str(from, &[])?;
        let plan = self.planner().upgrade(&current, to)?;
        self.script(&plan, &current)
    }

    /// The SQL of downgrading from `from` to `to`, without a database.
    pub fn downgrade_sql(&self, from: &str, to: &str) -> Result<String, Error> {
        let current = self.graph().resolve_str(from, &[])?;
        let plan = self.planner().downgrade(&current, to)?;
        self.script(&plan, &current)
    }

    /// The script of `plan` from the rows `current` (none: from base, the tables created).
    fn script(&self, plan: &Plan, current: &[NodeId]) -> Result<String, Error> {
        if self.one_transaction {
            self.planner().check_one_transaction(&plan.steps)?;
        }
        let settings: Vec<Vec<(&'static str, String)>> =
            plan.steps.iter().map(|planned| self.step_settings(planned)).collect();
        let steps: Vec<Step<'_>> = plan
            .steps
            .iter()
            .zip(&settings)
            .map(|(planned, settings)| Step { settings, ..planned.step() })
            .collect();
        let setup = Setup {
            create_tables: current.is_empty(),
            // The history table may predate the columns that store downgrades.
            add_columns: !current.is_empty(),
            prepare: true,
            adopt: Vec::new(),
            settings: self.run_settings(),
        };
        let pieces =
            self.lift_default(self.tables.program(&steps, &setup, self.one_transaction), &plan.steps);
        let mut text = join_statements(&self.session_settings());
        text.push_str(&script_of(&steps, &pieces));
        Ok(text)
    }
}

/// Single steps, for the stairway check of the test kit.
#[cfg(feature = "testkit")]
impl Migrator {
    /// Applies (`upgrade`) or reverts exactly one migration, whatever the target grammar
    /// would choose; its parents must be applied (to apply it) or it must be a version row
    /// (to revert it).
    pub(crate) fn step(&self, url: &str, node: NodeId, upgrade: bool) -> Result<(), Error> {
        let conn = Conn::Open(url.into_database()?);
        self.blocking(async {
            let (mut session, read) = self.open(conn).await?;
            let result = self.step_in(&mut session, read, node, upgrade).await;
            session.finish(&self.tables, result).await
        })
    }

    async fn step_in(
        &self,
        session: &mut Session<'_>,
        read: Read,
        node: NodeId,
        upgrade: bool,
    ) -> Result<(), Error> {
        let read = self.locked(session, read).await?;
        let planner = self.planner_on(session);
        let current = planner.verify(&read.state)?;
        if upgrade {
            read.state.check_fresh(&self.version_name())?;
        }
        let mut rows = current.clone();
        let planned = planner.step(node, &mut rows, upgrade);
        if let Some(refused) = planned.refused().filter(|_| !upgrade) {
            return Err(refused);
        }
        let setup = self.setup(&read, &current);
        self.execute(session, &Plan { steps: vec![planned], rows }, &setup).await.map(|_| ())
    }

    /// Applies the migrations needed to reach `rows`, from whatever is applied.
    pub(crate) fn upgrade_to(&self, url: &str, rows: &[NodeId]) -> Result<(), Error> {
        let conn = Conn::Open(url.into_database()?);
        let run = self.run(conn, false, |planner, current| {
            Ok(planner.upgrades(current, planner.graph.upgrade_path(current, rows)))
        });
        self.blocking(run).map(|_| ())
    }
}

/// The asynchronous API (feature `tokio`): the same operations, on the caller's tokio
/// runtime, through the same runner.
#[cfg(feature = "tokio")]
impl Migrator {
    /// [`Migrator::upgrade`] on the caller's runtime, on a database it connects to (a
    /// connection string, a [`Database`](crate::Database), a `tokio_postgres::Config`) or on a connection of
    /// yours (`&tokio_postgres::Client`; see [`IntoConnection`] for what it must not be).
    pub async fn upgrade_async<'a>(
        &self,
        db: impl IntoConnection<'a>,
        target: &str,
    ) -> Result<Report, Error> {
        self.upgrade_alongside(db.into_connection()?, target).await
    }

    /// [`Migrator::downgrade`] on the caller's runtime.
    pub async fn downgrade_async<'a>(
        &self,
        db: impl IntoConnection<'a>,
        target: &str,
    ) -> Result<Report, Error> {
        self.downgrade_alongside(db.into_connection()?, target).await
    }

    /// [`Migrator::stamp`] on the caller's runtime.
    pub async fn stamp_async<'a>(
        &self,
        db: impl IntoConnection<'a>,
        targets: &[&str],
        purge: bool,
    ) -> Result<Report, Error> {
        self.stamp_alongside(db.into_connection()?, targets, purge).await
    }

    /// [`Migrator::accept_checksums`] on the caller's runtime.
    pub async fn accept_checksums_async<'a>(
        &self,
        db: impl IntoConnection<'a>,
        revs: &[&str],
    ) -> Result<(), Error> {
        self.accept_alongside(db.into_connection()?, revs).await
    }

    // As for the synchronous face, the generic methods only convert their argument.
    async fn upgrade_alongside(&self, conn: Conn<'_>, target: &str) -> Result<Report, Error> {
        self.alongside(self.upgrade_on(conn, target)).await
    }

    async fn downgrade_alongside(&self, conn: Conn<'_>, target: &str) -> Result<Report, Error> {
        self.alongside(self.downgrade_on(conn, target)).await
    }

    async fn stamp_alongside(&self, conn: Conn<'_>, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.alongside(self.stamp_on(conn, targets, purge)).await
    }

    async fn accept_alongside(&self, conn: Conn<'_>, revs: &[&str]) -> Result<(), Error> {
        self.alongside(self.accept_checksums_on(conn, revs)).await
    }

    /// Runs `run` with the revision graph built and every migration rendered for its
    /// checksum as soon as `run` first waits (for the connection): the CPU of a run with
    /// nothing to do, done while the server works on the connection (the synchronous face
    /// does it on a thread of its own).
    async fn alongside<T>(&self, run: impl Future<Output = T>) -> T {
        let render = async {
            self.graph();
            self.compiled();
        };
        futures_util::future::join(run, render).await.0
    }

    /// [`Migrator::current`] on the caller's runtime.
    pub async fn current_async<'a>(&self, db: impl IntoConnection<'a>) -> Result<Vec<String>, Error> {
        self.current_on(db.into_connection()?).await
    }

    /// [`Migrator::is_at_heads`] on the caller's runtime.
    pub async fn is_at_heads_async<'a>(&self, db: impl IntoConnection<'a>) -> Result<bool, Error> {
        Ok(self.are_heads(&self.current_async(db).await?))
    }

    /// [`Migrator::history`] on the caller's runtime.
    pub async fn history_async<'a>(&self, db: impl IntoConnection<'a>) -> Result<Vec<HistoryEntry>, Error> {
        self.history_of(&self.current_async(db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(texts: &[&str]) -> Vec<Statement> {
        texts.iter().map(|t| Statement { sql: (*t).to_owned(), op: "execute".to_owned() }).collect()
    }

    #[test]
    fn line_endings_do_not_count_in_the_checksum() {
        let lf = sql(&["CREATE TABLE t (\n    id int\n)", "SELECT 1\n"]);
        let crlf = sql(&["CREATE TABLE t (\r\n    id int\r\n)", "SELECT 1\r\n"]);
        assert_eq!(checksum(&crlf), checksum(&lf));
        // A `\r` alone is text, not a line ending; other SQL is another checksum.
        assert_ne!(checksum(&sql(&["SELECT\r1"])), checksum(&sql(&["SELECT\n1"])));
        assert_ne!(checksum(&sql(&["CREATE TABLE t (\r\n    id bigint\r\n)"])), checksum(&lf));
    }

    #[test]
    fn the_raw_checksum_is_the_old_one_and_only_differs_when_a_statement_holds_a_cr() {
        let crlf = sql(&["SELECT\r\n1"]);
        assert_eq!(raw_checksum(&sql(&["SELECT\n1"])), None);
        // `printf 'SELECT\r\n1;\n' | sha256sum`: what histories recorded for this SQL.
        let raw = "8b0c75f275538770321ec91bf3c9b572a0f3f59319f796e534065898bc5b04aa";
        assert_eq!(raw_checksum(&crlf).as_deref(), Some(raw));
        // `printf 'SELECT\n1;\n' | sha256sum`: LF SQL keeps the checksum it always had.
        let lf = "55e9bbee9000869e6b0d30a9dcfca1d3ce8b50e39079d2123157e54f813243ad";
        assert_eq!(checksum(&crlf), lf);
        assert_eq!(checksum(&sql(&["SELECT\n1"])), lf);
        assert_ne!(raw_checksum(&crlf), Some(checksum(&crlf)));
    }
}

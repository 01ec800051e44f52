//! Replaying the compiled chain on PostgreSQL.
//!
//! A run reads the database's state in one round trip; when there is nothing to do it stops
//! there, without a lock. Otherwise it takes the migration lock (a session-level advisory
//! lock on its own connection, polled until a timeout, released on every path), reads the
//! state again, refuses what must be refused (unknown revisions, an interrupted migration,
//! edited migrations), and applies each step: one round trip per migration that runs
//! inside a transaction, its version and history rows committed with it.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use migrate_core::graph::{Graph, NodeId};
use migrate_core::op::{Op, Statement};
use migrate_core::script::{Batch, Step, set_local_sql};
use migrate_core::sql::{quote_literal, split_statements};
use migrate_core::version::{Direction, RowChange, Tables, rows_diff};
use postgres::error::ErrorPosition;
use postgres::{Client, NoTls, SimpleQueryMessage};
use sha2::{Digest, Sha256};

use crate::chain::{Chain, Migration};
use crate::error::{Error, Failure, Mismatch, redact};

/// Replays a chain on PostgreSQL: `Migrator::new(&MIGRATIONS).upgrade(url, "head")`.
#[derive(Clone, Debug)]
pub struct Migrator {
    chain: Chain,
    /// The revision graph, built on first use (in a run, while the connection is made).
    graph: OnceLock<Graph>,
    tables: Tables,
    lock_wait: Duration,
    lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    one_transaction: bool,
    /// The checksum of each migration's upgrade, by node, computed once.
    compiled: OnceLock<Vec<String>>,
    /// Told of each step as it ends.
    progress: Option<fn(&StepReport)>,
}

/// One step a run made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The migration.
    pub rev: &'static str,
    /// Its slug.
    pub slug: &'static str,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long it took, round trip included.
    pub duration: Duration,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The version rows before.
    pub before: Vec<String>,
    /// The version rows after.
    pub after: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<StepReport>,
    /// The connections the run opened (its own, and the lock's when it took the lock).
    pub connections: usize,
    /// The queries it sent, each one round trip (connecting aside).
    pub round_trips: usize,
}

/// A migration of the chain, as the database knows it.
#[derive(Clone, Copy, Debug)]
pub struct HistoryEntry {
    /// The migration.
    pub migration: &'static Migration,
    /// Whether it is applied (it or a later revision is a version row).
    pub applied: bool,
    /// Whether it is a version row.
    pub current: bool,
}

/// The state the runner reads before acting.
#[derive(Clone, Debug, Default)]
struct State {
    version_table: bool,
    history_table: bool,
    rows: Vec<String>,
    /// The checksum each revision last ran (or was accepted) with.
    checksums: BTreeMap<String, String>,
    /// The last history row: revision and success.
    last: Option<(String, Option<bool>)>,
}

/// The steps of a run, and the version rows they leave.
struct Plan {
    steps: Vec<Planned>,
    rows: Vec<NodeId>,
}

/// A step planned, with its SQL.
struct Planned {
    migration: &'static Migration,
    direction: Direction,
    statements: Vec<Statement>,
    settings: Vec<(&'static str, String)>,
    transactional: bool,
    checksum: String,
    changes: Vec<RowChange>,
    /// Why the operations cannot be undone, when they say so.
    irreversible: Option<String>,
}

impl Planned {
    /// The refusal to run a downgrade declared irreversible.
    fn refused(&self) -> Option<Error> {
        self.irreversible.as_ref().map(|reason| Error::Irreversible {
            rev: self.migration.rev.to_owned(),
            slug: self.migration.slug.to_owned(),
            reason: reason.clone(),
        })
    }

    fn step(&self) -> Step<'_> {
        Step {
            rev: self.migration.rev,
            slug: self.migration.slug,
            direction: self.direction,
            transactional: self.transactional,
            statements: &self.statements,
            settings: &self.settings,
            checksum: Some(&self.checksum),
            changes: &self.changes,
        }
    }
}

/// The SHA-256 of a migration's SQL, in hex: what the history records and compares.
pub fn checksum(statements: &[Statement]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hasher = Sha256::new();
    for statement in statements {
        hasher.update(statement.sql.as_bytes());
        hasher.update(b";\n");
    }
    let digest = hasher.finalize();
    let mut text = String::with_capacity(64);
    for byte in digest.iter() {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 15)]));
    }
    text
}

/// Opens a connection, never showing the password in errors.
pub(crate) fn connect(url: &str) -> Result<Client, Error> {
    let config =
        postgres::Config::from_str(url).map_err(|source| Error::Connect { target: redact(url), source })?;
    config.connect(NoTls).map_err(|source| Error::Connect { target: redact(url), source })
}

fn database(context: &'static str) -> impl FnOnce(postgres::Error) -> Error {
    move |source| Error::Database { context, source }
}

/// The rows of each statement of a simple query, in order.
fn results(messages: Vec<SimpleQueryMessage>) -> Vec<Vec<Vec<Option<String>>>> {
    let mut results = vec![Vec::new()];
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => {
                let values = (0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect();
                if let Some(last) = results.last_mut() {
                    last.push(values);
                }
            }
            SimpleQueryMessage::CommandComplete(_) => results.push(Vec::new()),
            _ => {}
        }
    }
    results
}

/// A connection that counts its round trips, for the report.
pub(crate) struct Session {
    client: Client,
    trips: usize,
}

impl Session {
    pub(crate) fn open(url: &str) -> Result<Session, Error> {
        Ok(Session { client: connect(url)?, trips: 0 })
    }

    fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.trips += 1;
        self.client.batch_execute(sql)
    }

    fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, postgres::Error> {
        self.trips += 1;
        self.client.simple_query(sql)
    }
}

/// The advisory lock of a run, on its own connection; released when dropped, on error and on
/// panic alike (and by the server if the process dies).
struct Lock {
    client: Session,
    key: String,
}

impl Lock {
    fn take(url: &str, tables: &Tables, wait: Duration) -> Result<Lock, Error> {
        let mut client = Session::open(url)?;
        let key = tables.lock_key_sql();
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let rows = client
                .simple_query(&format!("SELECT pg_try_advisory_lock({key})"))
                .map_err(database("cannot take the migration lock"))?;
            if results(rows)
                .first()
                .and_then(|r| r.first())
                .and_then(|r| r.first())
                .cloned()
                .flatten()
                .as_deref()
                == Some("t")
            {
                return Ok(Lock { client, key });
            }
            if start.elapsed() >= wait {
                return Err(Error::LockTimeout { waited: start.elapsed(), table: tables.version_table() });
            }
            std::thread::sleep(pause.min(wait.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.client.simple_query(&format!("SELECT pg_advisory_unlock({})", self.key));
    }
}

impl Migrator {
    /// A migrator for `chain`, with the defaults: tables `public.alembic_version` and
    /// `public.migrate_history`, a minute's wait for the lock, one transaction per migration.
    pub fn new(chain: &Chain) -> Migrator {
        Migrator {
            chain: *chain,
            graph: OnceLock::new(),
            tables: Tables::default(),
            lock_wait: Duration::from_secs(60),
            lock_timeout: None,
            statement_timeout: None,
            one_transaction: false,
            compiled: OnceLock::new(),
            progress: None,
        }
    }

    /// Uses other names or another schema for the version and history tables.
    pub fn tables(mut self, tables: Tables) -> Migrator {
        self.tables = tables;
        self
    }

    /// How long to wait for another runner to release the migration lock.
    pub fn lock_wait(mut self, wait: Duration) -> Migrator {
        self.lock_wait = wait;
        self
    }

    /// `lock_timeout` for every statement of the run (a migration's own setting wins).
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = Some(timeout);
        self
    }

    /// `statement_timeout` for every statement of the run (a migration's own setting wins).
    pub fn statement_timeout(mut self, timeout: Duration) -> Migrator {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Runs all the migrations of a run in one transaction instead of one each: all or
    /// nothing, and the fastest; refused when a migration cannot run inside a transaction.
    pub fn one_transaction(mut self, yes: bool) -> Migrator {
        self.one_transaction = yes;
        self
    }

    /// Calls `progress` as each step ends, for long runs (in one-transaction mode, the run
    /// ends as a whole and no step is reported on its own).
    pub fn on_step(mut self, progress: fn(&StepReport)) -> Migrator {
        self.progress = Some(progress);
        self
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The tables.
    pub fn table_names(&self) -> &Tables {
        &self.tables
    }

    fn session_settings(&self) -> String {
        let ms = |d: Duration| d.as_millis().max(1);
        let mut sql = String::new();
        if let Some(d) = self.lock_timeout {
            sql.push_str(&format!("SET lock_timeout = '{}ms';\n", ms(d)));
        }
        if let Some(d) = self.statement_timeout {
            sql.push_str(&format!("SET statement_timeout = '{}ms';\n", ms(d)));
        }
        sql
    }

    /// Reads the state in one round trip (two for a database without the tables).
    fn read_state(&self, client: &mut Session, prefix: &str) -> Result<State, Error> {
        let version = self.tables.version_table();
        let history = self.tables.history_table();
        let settings = split_statements(prefix).len();
        let query = format!(
            "{prefix}SELECT version_num FROM {version};\n\
             SELECT DISTINCT ON (revision) revision, checksum FROM {history} \
             WHERE success AND checksum IS NOT NULL AND direction IN ('upgrade', 'accept') ORDER BY revision, id DESC;\n\
             SELECT revision, success::text FROM {history} ORDER BY id DESC LIMIT 1"
        );
        let results = match client.simple_query(&query) {
            Ok(messages) => results(messages),
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
                return self.read_partial_state(client, prefix);
            }
            Err(e) => return Err(database("cannot read the version table")(e)),
        };
        let column = |statement: usize| -> Vec<Vec<Option<String>>> {
            results.get(settings + statement).cloned().unwrap_or_default()
        };
        let mut state = State { version_table: true, history_table: true, ..State::default() };
        state.rows = column(0).into_iter().filter_map(|r| r.into_iter().next().flatten()).collect();
        for row in column(1) {
            if let [Some(rev), Some(sum)] = row.as_slice() {
                state.checksums.insert(rev.clone(), sum.clone());
            }
        }
        state.last = column(2).into_iter().next().and_then(|row| match row.as_slice() {
            [Some(rev), success] => Some((rev.clone(), success.as_deref().map(|s| s == "true"))),
            _ => None,
        });
        Ok(state)
    }

    /// The state of a database missing one table or both: fresh, or managed by Alembic.
    fn read_partial_state(&self, client: &mut Session, prefix: &str) -> Result<State, Error> {
        let (version, history) = (self.tables.version_table(), self.tables.history_table());
        let query = format!(
            "{prefix}SELECT to_regclass({}) IS NOT NULL, to_regclass({}) IS NOT NULL",
            quote_literal(&version),
            quote_literal(&history)
        );
        let found = results(client.simple_query(&query).map_err(database("cannot read the catalog"))?);
        let flags =
            found.iter().rev().find(|r| !r.is_empty()).and_then(|r| r.first()).cloned().unwrap_or_default();
        let flag = |i: usize| flags.get(i).cloned().flatten().as_deref() == Some("t");
        let mut state = State { version_table: flag(0), history_table: flag(1), ..State::default() };
        if state.version_table {
            let rows = client
                .simple_query(&format!("SELECT version_num FROM {version}"))
                .map_err(database("cannot read the version table"))?;
            state.rows = results(rows)
                .into_iter()
                .next()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .collect();
        }
        Ok(state)
    }

    /// Takes the lock, then reads the state on `client` and creates the tables it lacks: the
    /// start of every command that writes.
    fn lock_and_read(&self, url: &str, client: &mut Session) -> Result<(Lock, State), Error> {
        let lock = Lock::take(url, &self.tables, self.lock_wait)?;
        let state = self.read_state(client, "")?;
        self.ensure_tables(client, &state)?;
        Ok((lock, state))
    }

    fn ensure_tables(&self, client: &mut Session, state: &State) -> Result<(), Error> {
        if state.version_table && state.history_table {
            return Ok(());
        }
        client
            .batch_execute(&self.tables.create_sql())
            .map_err(database("cannot create the version and history tables"))
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

    fn migration(&self, node: NodeId) -> &'static Migration {
        self.chain.migrations()[node]
    }

    fn nodes(&self, rows: &[String]) -> Result<Vec<NodeId>, Error> {
        let unknown: Vec<String> = rows.iter().filter(|r| self.graph().node(r).is_none()).cloned().collect();
        if !unknown.is_empty() {
            return Err(Error::UnknownRevision { revisions: unknown });
        }
        Ok(rows.iter().filter_map(|r| self.graph().node(r)).collect())
    }

    /// The refusals every run checks first: unknown revisions, an interrupted or failed
    /// migration outside a transaction, edited migrations.
    fn verify(&self, state: &State) -> Result<Vec<NodeId>, Error> {
        let current = self.nodes(&state.rows)?;
        if let Some((rev, success)) = &state.last
            && let Some(node) = self.graph().node(rev)
        {
            let migration = self.migration(node);
            let outside = !migration.transactional;
            if success.is_none() || (*success == Some(false) && outside) {
                return Err(Error::Dirty {
                    rev: rev.clone(),
                    slug: migration.slug.to_owned(),
                    file: migration.file.to_owned(),
                    interrupted: success.is_none(),
                });
            }
        }
        let applied = self.graph().ancestors(&current);
        let mut mismatches = Vec::new();
        for node in self.graph().linear().iter().copied().filter(|&n| applied[n]) {
            let migration = self.migration(node);
            if let Some(recorded) = state.checksums.get(migration.rev) {
                let compiled = self.compiled()[node].clone();
                if *recorded != compiled {
                    mismatches.push(Mismatch {
                        rev: migration.rev.to_owned(),
                        file: migration.file.to_owned(),
                        recorded: recorded.clone(),
                        compiled,
                    });
                }
            }
        }
        if !mismatches.is_empty() {
            return Err(Error::ChecksumMismatch(mismatches));
        }
        Ok(current)
    }

    fn plan_step(&self, node: NodeId, rows: &mut Vec<NodeId>, upgrade: bool) -> Planned {
        let migration = self.migration(node);
        let op: Op = if upgrade { migration.upgrade_ops() } else { migration.downgrade_ops() };
        let statements = op.statements();
        let transactional =
            migration.transactional && statements.iter().all(|s| s.no_transaction().is_none());
        let (changes, after) = self.graph().row_changes(rows, node, upgrade);
        *rows = after;
        Planned {
            migration,
            direction: if upgrade { Direction::Upgrade } else { Direction::Downgrade },
            checksum: checksum(&statements),
            statements,
            settings: op.settings(),
            transactional,
            changes,
            irreversible: op.irreversible_reason().map(str::to_owned),
        }
    }

    fn plan_upgrade(&self, current: &[NodeId], target: &str) -> Result<Plan, Error> {
        let targets = self.graph().resolve_str(target, current)?;
        let applied = self.graph().ancestors(current);
        let below = targets.iter().all(|&t| applied[t]) && !targets.iter().all(|t| current.contains(t));
        if (targets.is_empty() && !current.is_empty()) || (!targets.is_empty() && below) {
            return Err(Error::BelowCurrent { target: self.revs(&targets), current: self.revs(current) });
        }
        let mut rows = current.to_vec();
        let steps = self
            .graph()
            .upgrade_path(current, &targets)
            .into_iter()
            .map(|n| self.plan_step(n, &mut rows, true))
            .collect();
        Ok(Plan { steps, rows })
    }

    fn plan_downgrade(&self, current: &[NodeId], target: &str) -> Result<Plan, Error> {
        let targets = self.graph().resolve_str(target, current)?;
        let applied = self.graph().ancestors(current);
        if targets.iter().any(|&t| !applied[t]) {
            return Err(Error::NotBelow { target: self.revs(&targets), current: self.revs(current) });
        }
        let path = self.graph().downgrade_path(current, &targets);
        let mut rows = current.to_vec();
        let steps: Vec<Planned> = path.into_iter().map(|n| self.plan_step(n, &mut rows, false)).collect();
        if let Some(refused) = steps.iter().find_map(Planned::refused) {
            return Err(refused);
        }
        Ok(Plan { steps, rows })
    }

    fn revs(&self, nodes: &[NodeId]) -> Vec<String> {
        self.graph().revs_of(nodes).into_iter().map(str::to_owned).collect()
    }

    /// Applies migrations up to `target` (`head`, `heads`, `+1`, a revision, …).
    pub fn upgrade(&self, url: &str, target: &str) -> Result<Report, Error> {
        self.run(url, |migrator, current| migrator.plan_upgrade(current, target))
    }

    /// Reverts migrations down to `target` (`-1`, `base`, a revision, …).
    pub fn downgrade(&self, url: &str, target: &str) -> Result<Report, Error> {
        self.run(url, |migrator, current| migrator.plan_downgrade(current, target))
    }

    fn run(
        &self,
        url: &str,
        plan: impl Fn(&Migrator, &[NodeId]) -> Result<Plan, Error>,
    ) -> Result<Report, Error> {
        // Building the graph and rendering every migration for its checksum are the CPU of a
        // run with nothing to do: they happen while the connection is made.
        let (client, state) = std::thread::scope(|scope| {
            let rendering = scope.spawn(|| {
                self.graph();
                self.compiled();
            });
            let read = Session::open(url).and_then(|mut client| {
                let state = self.read_state(&mut client, &self.session_settings())?;
                Ok((client, state))
            });
            let _ = rendering.join();
            read
        })?;
        let mut client = client;
        // Nothing to do, nothing wrong: no lock needed.
        if let Ok(current) = self.verify(&state)
            && let Ok(plan) = plan(self, &current)
            && plan.steps.is_empty()
        {
            return Ok(Report {
                before: state.rows.clone(),
                after: state.rows,
                steps: Vec::new(),
                connections: 1,
                round_trips: client.trips,
            });
        }
        let (lock, state) = self.lock_and_read(url, &mut client)?;
        let current = self.verify(&state)?;
        let plan = plan(self, &current)?;
        let reports = self.execute(&mut client, &plan, &current)?;
        Ok(Report {
            before: state.rows,
            after: self.revs(&plan.rows),
            steps: reports,
            connections: 2,
            // The unlock is sent as the lock drops, after this count.
            round_trips: client.trips + lock.client.trips + 1,
        })
    }

    fn execute(
        &self,
        client: &mut Session,
        plan: &Plan,
        current: &[NodeId],
    ) -> Result<Vec<StepReport>, Error> {
        let steps = &plan.steps;
        if self.one_transaction && !steps.is_empty() {
            return self.execute_as_one(client, steps, current, &plan.rows);
        }
        let mut reports = Vec::with_capacity(steps.len());
        for planned in steps {
            let start = Instant::now();
            if planned.transactional {
                self.execute_transactional(client, planned)?;
            } else {
                self.execute_outside(client, planned)?;
            }
            let report = StepReport {
                rev: planned.migration.rev,
                slug: planned.migration.slug,
                direction: planned.direction,
                duration: start.elapsed(),
            };
            if let Some(progress) = self.progress {
                progress(&report);
            }
            reports.push(report);
        }
        Ok(reports)
    }

    fn execute_transactional(&self, client: &mut Session, planned: &Planned) -> Result<(), Error> {
        let batch = self.tables.transactional_batch(&planned.step(), true);
        match client.batch_execute(&batch.text) {
            Ok(()) => Ok(()),
            Err(error) => {
                let _ = client.batch_execute("ROLLBACK");
                let failure = self.diagnose(client, &batch, std::slice::from_ref(planned), &error);
                self.record_failure(client, planned, &failure);
                Err(Error::MigrationFailed(Box::new(failure)))
            }
        }
    }

    /// Refuses a run in one transaction holding a migration that cannot run in one.
    fn check_one_transaction(&self, steps: &[Planned]) -> Result<(), Error> {
        match steps.iter().find(|s| !s.transactional) {
            Some(step) if self.one_transaction => Err(Error::NotTransactional {
                rev: step.migration.rev.to_owned(),
                slug: step.migration.slug.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    fn execute_as_one(
        &self,
        client: &mut Session,
        steps: &[Planned],
        current: &[NodeId],
        rows: &[NodeId],
    ) -> Result<Vec<StepReport>, Error> {
        self.check_one_transaction(steps)?;
        let changes = rows_diff(self.graph(), current, rows);
        let all: Vec<Step<'_>> = steps.iter().map(Planned::step).collect();
        let batch = self.tables.one_transaction_batch(&all, &changes);
        let start = Instant::now();
        if let Err(error) = client.batch_execute(&batch.text) {
            let _ = client.batch_execute("ROLLBACK");
            let failure = self.diagnose(client, &batch, steps, &error);
            if let Some(planned) = steps.iter().find(|s| s.migration.rev == failure.rev) {
                self.record_failure(client, planned, &failure);
            }
            return Err(Error::MigrationFailed(Box::new(failure)));
        }
        let each = start.elapsed() / u32::try_from(steps.len()).unwrap_or(u32::MAX);
        Ok(steps
            .iter()
            .map(|p| StepReport {
                rev: p.migration.rev,
                slug: p.migration.slug,
                direction: p.direction,
                duration: each,
            })
            .collect())
    }

    fn execute_outside(&self, client: &mut Session, planned: &Planned) -> Result<(), Error> {
        let step = planned.step();
        let started = self.tables.history_started_sql(step.rev, step.slug, step.direction, step.checksum);
        client.batch_execute(&started).map_err(database("cannot record the start of a migration"))?;
        let (set, reset) = Tables::session_settings(&step);
        for sql in &set {
            client.batch_execute(sql).map_err(database("cannot apply a migration's settings"))?;
        }
        for (index, statement) in planned.statements.iter().enumerate() {
            if let Err(error) = client.batch_execute(&statement.sql) {
                let failure = self.locate(self.failure(planned, &error), planned, Some(index), None);
                for sql in &reset {
                    let _ = client.batch_execute(sql);
                }
                self.record_failure(client, planned, &failure);
                return Err(Error::MigrationFailed(Box::new(failure)));
            }
        }
        for sql in &reset {
            client.batch_execute(sql).map_err(database("cannot reset a migration's settings"))?;
        }
        client
            .batch_execute(&self.tables.end_batch(&step).text)
            .map_err(database("cannot record the end of a migration"))
    }

    fn failure(&self, planned: &Planned, error: &postgres::Error) -> Failure {
        let db = error.as_db_error();
        Failure {
            rev: planned.migration.rev.to_owned(),
            slug: planned.migration.slug.to_owned(),
            file: planned.migration.file.to_owned(),
            direction: planned.direction.as_str(),
            transactional: planned.transactional,
            statement_index: None,
            op: None,
            statement: None,
            message: db.map_or_else(|| error.to_string(), |d| d.message().to_owned()),
            code: db.map(|d| d.code().code().to_owned()),
            detail: db.and_then(|d| d.detail()).map(str::to_owned),
            hint: db.and_then(|d| d.hint()).map(str::to_owned),
            position: None,
        }
    }

    /// Finds which statement failed: from the error's position in the batch when PostgreSQL
    /// gives one, or else by replaying the statements one by one in a transaction that is
    /// rolled back.
    fn diagnose(
        &self,
        client: &mut Session,
        batch: &Batch,
        steps: &[Planned],
        error: &postgres::Error,
    ) -> Failure {
        let position = match error.as_db_error().and_then(|d| d.position()) {
            Some(ErrorPosition::Original(p)) => usize::try_from(*p).ok(),
            _ => None,
        };
        let located = position.and_then(|p| batch.statement_at(p)).filter(|(step, index, offset)| {
            steps
                .get(*step)
                .and_then(|s| s.statements.get(*index))
                .is_some_and(|s| *offset <= s.sql.chars().count())
        });
        let (step, index, offset, error) = match located {
            Some((step, index, offset)) => (step, Some(index), Some(offset), error),
            None => match self.replay(client, steps) {
                Some((step, index, replayed)) => {
                    let failure = self.failure(&steps[step], &replayed);
                    return self.locate(failure, &steps[step], Some(index), None);
                }
                None => (0, None, None, error),
            },
        };
        let planned = &steps[step];
        let failure = self.failure(planned, error);
        self.locate(failure, planned, index, offset)
    }

    fn locate(
        &self,
        mut failure: Failure,
        planned: &Planned,
        index: Option<usize>,
        offset: Option<usize>,
    ) -> Failure {
        if let Some(statement) = index.and_then(|i| planned.statements.get(i)) {
            failure.statement_index = index.map(|i| (i, planned.statements.len()));
            failure.op = Some(statement.op.clone());
            failure.statement = Some(statement.sql.clone());
        }
        failure.position = offset;
        failure
    }

    /// Replays the steps' statements in a transaction that is always rolled back, and returns
    /// the first one that fails, with its error.
    fn replay(&self, client: &mut Session, steps: &[Planned]) -> Option<(usize, usize, postgres::Error)> {
        client.batch_execute("BEGIN").ok()?;
        let mut found = None;
        'steps: for (number, planned) in steps.iter().enumerate() {
            for (name, value) in &planned.settings {
                let _ = client.batch_execute(&set_local_sql(name, value));
            }
            for (index, statement) in planned.statements.iter().enumerate() {
                if let Err(error) = client.batch_execute(&statement.sql) {
                    found = Some((number, index, error));
                    break 'steps;
                }
            }
        }
        let _ = client.batch_execute("ROLLBACK");
        found
    }

    fn record_failure(&self, client: &mut Session, planned: &Planned, failure: &Failure) {
        let step = planned.step();
        let sql = self.tables.history_ended_sql(
            step.rev,
            step.slug,
            step.direction,
            step.checksum,
            Some(&failure.message),
        );
        let _ = client.batch_execute(&sql);
    }

    /// Sets the version rows to `targets` without running migrations (`base` or nothing:
    /// none), as Alembic's stamp does; with `purge`, every row goes first, unknown ones too.
    /// Also what records where a database built outside migrate stands, and what clears an
    /// interrupted migration once the schema is repaired.
    pub fn stamp(&self, url: &str, targets: &[&str], purge: bool) -> Result<Report, Error> {
        let mut client = Session::open(url)?;
        let (lock, state) = self.lock_and_read(url, &mut client)?;
        let before = if purge { Vec::new() } else { self.nodes(&state.rows)? };
        let mut nodes = Vec::new();
        for target in targets {
            nodes.extend(self.graph().resolve_str(target, &before)?);
        }
        let after = self.graph().stamp_rows(&before, &nodes);
        let mut sql = String::from("BEGIN;\n");
        if purge {
            sql.push_str(&format!("DELETE FROM {};\n", self.tables.version_table()));
        }
        for change in rows_diff(self.graph(), &before, &after) {
            sql.push_str(&self.tables.row_change_sql(&change));
            sql.push_str(";\n");
        }
        let recorded: Vec<(&str, &str)> = if nodes.is_empty() {
            vec![("base", "base")]
        } else {
            nodes.iter().map(|&n| (self.migration(n).rev, self.migration(n).slug)).collect()
        };
        for (rev, slug) in recorded {
            sql.push_str(&self.tables.history_done_sql(rev, slug, Direction::Stamp, None));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT;\n");
        client.batch_execute(&sql).map_err(database("cannot stamp the version table"))?;
        Ok(Report {
            before: state.rows,
            after: self.revs(&after),
            steps: Vec::new(),
            connections: 2,
            round_trips: client.trips + lock.client.trips + 1,
        })
    }

    /// Records the SQL the given applied migrations render now as the checksum they ran with:
    /// for an edit that changes nothing the database holds.
    pub fn accept_checksums(&self, url: &str, revs: &[&str]) -> Result<(), Error> {
        let mut client = Session::open(url)?;
        let _locked = self.lock_and_read(url, &mut client)?;
        let mut sql = String::from("BEGIN;\n");
        for rev in revs {
            let node = self.graph().lookup(rev)?;
            let migration = self.migration(node);
            sql.push_str(&self.tables.history_done_sql(
                migration.rev,
                migration.slug,
                Direction::Accept,
                Some(&self.compiled()[node]),
            ));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT;\n");
        client.batch_execute(&sql).map_err(database("cannot record the accepted checksums"))
    }

    /// The database's version rows (an empty list for a database never migrated).
    pub fn current(&self, url: &str) -> Result<Vec<String>, Error> {
        let mut client = Session::open(url)?;
        Ok(self.read_state(&mut client, "")?.rows)
    }

    /// Whether the database is at the chain's heads, exactly.
    pub fn is_at_heads(&self, url: &str) -> Result<bool, Error> {
        Ok(self.are_heads(&self.current(url)?))
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
    pub fn history(&self, url: &str) -> Result<Vec<HistoryEntry>, Error> {
        let rows = self.current(url)?;
        let current = self.nodes(&rows)?;
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
    /// what `upgrade --sql` prints. From `base`, the script creates the tables first.
    pub fn upgrade_sql(&self, from: &str, to: &str) -> Result<String, Error> {
        let current = self.graph().resolve_str(from, &[])?;
        let plan = self.plan_upgrade(&current, to)?;
        self.script(&plan, &current)
    }

    /// The SQL of downgrading from `from` to `to`, without a database.
    pub fn downgrade_sql(&self, from: &str, to: &str) -> Result<String, Error> {
        let current = self.graph().resolve_str(from, &[])?;
        let plan = self.plan_downgrade(&current, to)?;
        self.script(&plan, &current)
    }

    /// The script of `plan` from the rows `current` (none: from base, the tables created).
    fn script(&self, plan: &Plan, current: &[NodeId]) -> Result<String, Error> {
        self.check_one_transaction(&plan.steps)?;
        let steps: Vec<Step<'_>> = plan.steps.iter().map(Planned::step).collect();
        let changes = rows_diff(self.graph(), current, &plan.rows);
        let one = self.one_transaction.then_some(changes.as_slice());
        Ok(format!("{}{}", self.session_settings(), self.tables.script(&steps, current.is_empty(), one)))
    }
}

/// Single steps, for the stairway check of the test kit.
#[cfg(feature = "testkit")]
impl Migrator {
    /// Applies (`upgrade`) or reverts exactly one migration, whatever the target grammar
    /// would choose; its parents must be applied (to apply it) or it must be a version row
    /// (to revert it).
    pub(crate) fn step(&self, url: &str, node: NodeId, upgrade: bool) -> Result<(), Error> {
        let mut client = Session::open(url)?;
        let (_lock, state) = self.lock_and_read(url, &mut client)?;
        let mut rows = self.verify(&state)?;
        let current = rows.clone();
        let planned = self.plan_step(node, &mut rows, upgrade);
        if let Some(refused) = planned.refused().filter(|_| !upgrade) {
            return Err(refused);
        }
        self.execute(&mut client, &Plan { steps: vec![planned], rows }, &current).map(|_| ())
    }

    /// Applies the migrations needed to reach `rows`, from whatever is applied.
    pub(crate) fn upgrade_to(&self, url: &str, rows: &[NodeId]) -> Result<(), Error> {
        self.run(url, |migrator, current| {
            let mut after = current.to_vec();
            let steps = migrator
                .graph()
                .upgrade_path(current, rows)
                .into_iter()
                .map(|n| migrator.plan_step(n, &mut after, true))
                .collect();
            Ok(Plan { steps, rows: after })
        })
        .map(|_| ())
    }
}

//! One chain applied to many targets: databases (a database per tenant, shards, regions), or
//! the schemas of one database (a schema per tenant), with bounded parallelism, a report per
//! target, an optional canary stage and a choice between stopping at the first failure and
//! going on.
//!
//! ```ignore
//! let fleet = Fleet::new(Migrator::new(&MIGRATIONS)).jobs(8).canary(2).keep_going(true);
//! let targets = vec![Target::database("postgres://app@db1/crm")?, Target::database("postgres://app@db2/crm")?];
//! let report = fleet.upgrade(&targets, "head")?;
//! for failed in report.failed() {
//!     eprintln!("{}: {}", failed.target, failed.outcome);
//! }
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use migrate_core::sql::quote_ident;

use crate::connect::Database;
use crate::error::{Error, rows_text};
use crate::runner::{Migrator, Report, TableNames};
use crate::session::{Conn, block_on};

/// Where a fan-out run migrates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Target {
    /// A database, its version and history tables where the migrator puts them.
    Database(Database),
    /// A schema of a database (a schema per tenant): the version and history tables go in
    /// that schema (so the migration lock, whose key is the version table's, is the
    /// schema's), and the run's `search_path` is that schema then `public`, so that the
    /// migrations' unqualified names are created in it.
    Schema {
        /// The database.
        database: Database,
        /// The schema, which must exist.
        schema: String,
    },
}

impl Target {
    /// A database, from a connection string.
    ///
    /// # Errors
    ///
    /// A connection string that cannot be read.
    pub fn database(url: &str) -> Result<Target, Error> {
        Ok(Target::Database(Database::parse(url)?))
    }

    /// A schema of the database `url`.
    ///
    /// # Errors
    ///
    /// A connection string that cannot be read.
    pub fn schema(url: &str, schema: &str) -> Result<Target, Error> {
        Ok(Target::Schema { database: Database::parse(url)?, schema: schema.to_owned() })
    }

    /// How reports name it: `user@host:port/database`, with ` schema <name>` for a schema;
    /// never a password.
    pub fn name(&self) -> String {
        match self {
            Target::Database(database) => database.target().to_owned(),
            Target::Schema { database, schema } => {
                format!("{} schema {}", database.target(), quote_ident(schema))
            }
        }
    }

    fn database_of(&self) -> &Database {
        match self {
            Target::Database(database) | Target::Schema { database, .. } => database,
        }
    }
}

/// How one target of a fan-out run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Migrated (or already where it was asked to go: no steps).
    Done(Report),
    /// The run failed or was refused; the error says where the target stands.
    Failed(Error),
    /// Skipped, being a standby or read-only ([`Fleet::skip_read_only`]): the refusal.
    Skipped(Error),
    /// Not run: why (an earlier failure stopped the run, the canary stage failed, an
    /// interrupt).
    NotRun(String),
}

impl Outcome {
    /// How it ended, in one word: `migrated`, `unchanged` (nothing to do), `failed`, `skipped`
    /// or `not-run`, as the command line's report and its JSON give it.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Done(report) if report.steps.is_empty() => "unchanged",
            Outcome::Done(_) => "migrated",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
            Outcome::NotRun(_) => "not-run",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done(report) if report.steps.is_empty() => {
                write!(f, "already at {}", rows_text(&report.after))
            }
            Outcome::Done(report) => write!(
                f,
                "{} → {}, {} step(s)",
                rows_text(&report.before),
                rows_text(&report.after),
                report.steps.len()
            ),
            Outcome::Failed(error) => write!(f, "failed: {error}"),
            Outcome::Skipped(error) => write!(f, "skipped: {error}"),
            Outcome::NotRun(why) => write!(f, "not run: {why}"),
        }
    }
}

/// What a fan-out run did on one target.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetReport {
    /// The target, as [`Target::name`] names it.
    pub target: String,
    /// Its place in the list of targets given.
    pub index: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// How long its run took, connecting included (zero when not run).
    pub duration: Duration,
}

impl TargetReport {
    /// Whether this target failed (a skipped or unrun target did not).
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

/// What a fan-out run did: a report per target, in the order given.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport {
    /// Each target's report, in the order the targets were given.
    pub targets: Vec<TargetReport>,
    /// How many targets ran at once: [`Fleet::jobs`], or fewer when a server had too few free
    /// connections for them (as many per job as one run may hold).
    pub jobs: usize,
    /// How long the whole run took.
    pub duration: Duration,
}

impl FleetReport {
    /// The targets that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TargetReport> {
        self.targets.iter().filter(|t| t.is_failure())
    }

    /// The targets not run, because of a failure, the canary stage or an interrupt.
    pub fn not_run(&self) -> impl Iterator<Item = &TargetReport> {
        self.targets.iter().filter(|t| matches!(t.outcome, Outcome::NotRun(_)))
    }

    /// Whether every target was migrated, or skipped as asked.
    pub fn is_success(&self) -> bool {
        self.targets.iter().all(|t| matches!(t.outcome, Outcome::Done(_) | Outcome::Skipped(_)))
    }
}

/// A hook of [`Fleet::on_done`].
type OnDone = Arc<dyn Fn(&TargetReport) + Send + Sync>;

/// Applies one chain to many targets ([`Target`]): `jobs` at a time, each target migrated by
/// its own run of the migrator (its own connection, migration lock, one transaction per
/// migration, backup when asked), so that a failure on one leaves the others as they are.
#[derive(Clone)]
pub struct Fleet {
    migrator: Migrator,
    jobs: usize,
    canary: usize,
    keep_going: bool,
    skip_read_only: bool,
    on_done: Option<OnDone>,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("jobs", &self.jobs)
            .field("canary", &self.canary)
            .field("keep_going", &self.keep_going)
            .field("skip_read_only", &self.skip_read_only)
            .finish_non_exhaustive()
    }
}

/// Which way a fan-out run goes.
#[derive(Clone, Copy)]
enum Way<'a> {
    Upgrade(&'a str),
    Downgrade(&'a str),
}

impl Fleet {
    /// A fan-out of `migrator` (its settings apply to every target): 4 targets at a time, no
    /// canary stage, stopping at the first failure.
    pub fn new(migrator: Migrator) -> Fleet {
        Fleet { migrator, jobs: 4, canary: 0, keep_going: false, skip_read_only: false, on_done: None }
    }

    /// How many targets are migrated at once (at least 1). Fewer run when a server of the
    /// targets has too few free connections for them (read from the server before the run:
    /// the least of `max_connections`, the role's and the database's `CONNECTION LIMIT`, less
    /// the sessions open), a run holding its session, a second one while a statement waits on
    /// a lock, `pg_dump`'s for a backup and one renewing a lease that only expires.
    pub fn jobs(mut self, jobs: usize) -> Fleet {
        self.jobs = jobs.max(1);
        self
    }

    /// Migrates the first `n` targets first, as a stage of its own: when one of them fails,
    /// no other target is run, whatever [`Fleet::keep_going`] says.
    pub fn canary(mut self, n: usize) -> Fleet {
        self.canary = n;
        self
    }

    /// Goes on with the other targets when one fails (else no new target starts after a
    /// failure; those running finish). Either way the report names every failure.
    pub fn keep_going(mut self, yes: bool) -> Fleet {
        self.keep_going = yes;
        self
    }

    /// Reports a standby or read-only target as skipped instead of failed.
    pub fn skip_read_only(mut self, yes: bool) -> Fleet {
        self.skip_read_only = yes;
        self
    }

    /// Calls `done` as each target ends (from the thread running the fan-out), for a
    /// progress display.
    pub fn on_done(mut self, done: impl Fn(&TargetReport) + Send + Sync + 'static) -> Fleet {
        self.on_done = Some(Arc::new(done));
        self
    }

    /// Upgrades every target to `target` (`head`, `heads`, a revision, …).
    ///
    /// # Errors
    ///
    /// Only when the runner's I/O cannot start; each target's failure is in its report.
    pub fn upgrade(&self, targets: &[Target], target: &str) -> Result<FleetReport, Error> {
        block_on(self.run(targets, Way::Upgrade(target)))
    }

    /// Downgrades every target to `target`.
    ///
    /// # Errors
    ///
    /// Only when the runner's I/O cannot start; each target's failure is in its report.
    pub fn downgrade(&self, targets: &[Target], target: &str) -> Result<FleetReport, Error> {
        block_on(self.run(targets, Way::Downgrade(target)))
    }

    /// [`Fleet::upgrade`] on the caller's tokio runtime.
    #[cfg(feature = "tokio")]
    pub async fn upgrade_async(&self, targets: &[Target], target: &str) -> FleetReport {
        self.run(targets, Way::Upgrade(target)).await
    }

    /// [`Fleet::downgrade`] on the caller's tokio runtime.
    #[cfg(feature = "tokio")]
    pub async fn downgrade_async(&self, targets: &[Target], target: &str) -> FleetReport {
        self.run(targets, Way::Downgrade(target)).await
    }

    async fn run(&self, targets: &[Target], way: Way<'_>) -> FleetReport {
        let start = Instant::now();
        // Built once, before the migrator is copied for each schema.
        self.migrator.graph();
        self.migrator.compiled();
        let jobs = self
            .jobs
            .min(free_jobs(targets, self.migrator.connections_per_run()).await)
            .min(targets.len())
            .max(1);
        let reports: Vec<Mutex<Option<TargetReport>>> = targets.iter().map(|_| Mutex::new(None)).collect();
        let canary = self.canary.min(targets.len());
        let stage = |range: std::ops::Range<usize>, keep_going: bool| {
            let (reports, way) = (&reports, way);
            async move {
                let next = AtomicUsize::new(range.start);
                let stop = AtomicBool::new(false);
                let worker = || async {
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        if index >= range.end {
                            break;
                        }
                        let report = if stop.load(Ordering::SeqCst) {
                            not_run(
                                targets,
                                index,
                                "an earlier target failed, and the run stops at the first failure",
                            )
                        } else if self.migrator.is_interrupted() {
                            not_run(targets, index, "the run was interrupted")
                        } else {
                            self.one(targets, index, way).await
                        };
                        if report.is_failure() && !keep_going {
                            stop.store(true, Ordering::SeqCst);
                        }
                        if let Some(done) = &self.on_done {
                            done(&report);
                        }
                        if let Ok(mut slot) = reports[index].lock() {
                            *slot = Some(report);
                        }
                    }
                };
                futures_util::future::join_all((0..jobs).map(|_| worker())).await;
            }
        };
        stage(0..canary, false).await;
        let canary_failed = reports[..canary]
            .iter()
            .filter_map(|slot| {
                slot.lock().ok().and_then(|r| r.as_ref().filter(|r| r.is_failure()).map(|r| r.target.clone()))
            })
            .collect::<Vec<_>>();
        if canary_failed.is_empty() {
            stage(canary..targets.len(), self.keep_going).await;
        } else {
            for (index, slot) in reports.iter().enumerate().skip(canary) {
                let why = format!("the canary stage failed on {}", canary_failed.join(", "));
                let report = not_run(targets, index, &why);
                if let Some(done) = &self.on_done {
                    done(&report);
                }
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(report);
                }
            }
        }
        let targets = reports
            .into_iter()
            .enumerate()
            .map(|(index, slot)| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| not_run(targets, index, "it was never reached"))
            })
            .collect();
        FleetReport { targets, jobs, duration: start.elapsed() }
    }

    /// Migrates the `index`-th target.
    async fn one(&self, targets: &[Target], index: usize, way: Way<'_>) -> TargetReport {
        let target = &targets[index];
        let start = Instant::now();
        let schema_migrator;
        let migrator = match target {
            Target::Database(_) => &self.migrator,
            Target::Schema { schema, .. } => {
                let tables = self.migrator.table_names();
                schema_migrator = self
                    .migrator
                    .clone()
                    .tables(TableNames::new(schema, tables.version(), tables.history()))
                    .search_path(&[schema, "public"]);
                &schema_migrator
            }
        };
        let conn = Conn::Open(target.database_of().clone());
        let result = match way {
            Way::Upgrade(to) => migrator.upgrade_on(conn, to).await,
            Way::Downgrade(to) => migrator.downgrade_on(conn, to).await,
        };
        let outcome = match result {
            Ok(report) => Outcome::Done(report),
            Err(error @ Error::ReadOnly { .. }) if self.skip_read_only => Outcome::Skipped(error),
            Err(error) => Outcome::Failed(error),
        };
        TargetReport { target: target.name(), index, outcome, duration: start.elapsed() }
    }
}

fn not_run(targets: &[Target], index: usize, why: &str) -> TargetReport {
    TargetReport {
        target: targets[index].name(),
        index,
        outcome: Outcome::NotRun(why.to_owned()),
        duration: Duration::ZERO,
    }
}

/// How many jobs the targets' servers have room for: for each server (host and port), its
/// free connections (`max_connections` less the reserved ones and those open, and the role's
/// and the database's `CONNECTION LIMIT` less their sessions) divided by what one run may hold
/// (`per_job`), as the first target of each server finds them. A server that cannot be asked
/// within 5 s sets no bound (its targets fail on their own).
async fn free_jobs(targets: &[Target], per_job: usize) -> usize {
    let mut servers: Vec<(&str, &Database)> = Vec::new();
    for target in targets {
        let database = target.database_of();
        let name = database.target();
        let server = name.rsplit_once('/').map_or(name, |(server, _)| server);
        let server = server.split_once('@').map_or(server, |(_, at)| at);
        if !servers.iter().any(|(seen, _)| *seen == server) {
            servers.push((server, database));
        }
    }
    // All servers at once, each given a few seconds: a server that does not answer sets no
    // bound, and its targets fail on their own.
    let probes = servers.into_iter().map(|(_, database)| async move {
        let probe = async {
            let client = database.connect().await.ok()?;
            let messages = client.simple_query(FREE_CONNECTIONS_SQL).await.ok()?;
            messages.into_iter().find_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    row.get(0).and_then(|v| v.parse::<usize>().ok())
                }
                _ => None,
            })
        };
        tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten()
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .map(|free| (free / per_job.max(1)).max(1))
        .min()
        .unwrap_or(usize::MAX)
}

/// The connections free for this role in this database: the least of the server's (less the
/// reserved ones), the role's and the database's limits, less the sessions each counts (this
/// query's own counted as free: it ends before the run starts).
const FREE_CONNECTIONS_SQL: &str = "SELECT greatest(0, least(\
     current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int \
     - (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int, \
     CASE WHEN r.rolconnlimit >= 0 THEN r.rolconnlimit \
     - (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r.oid)::int END, \
     CASE WHEN d.datconnlimit >= 0 THEN d.datconnlimit \
     - (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid)::int END) + 1) \
     FROM pg_catalog.pg_roles r, pg_catalog.pg_database d \
     WHERE r.rolname = current_user AND d.datname = current_database()";

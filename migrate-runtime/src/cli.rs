//! The database commands inside any binary (feature `cli`): a backend's entrypoint can run
//! `my-backend migrate upgrade head` before it serves, as the guide runs `alembic upgrade head`.
//!
//! ```ignore
//! static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();
//!
//! fn main() -> std::process::ExitCode {
//!     let args: Vec<String> = std::env::args().collect();
//!     if args.get(1).map(String::as_str) == Some("migrate") {
//!         return migrate_runtime::cli::run_with_args(&MIGRATIONS, &args[2..]);
//!     }
//!     // … serve
//! }
//! ```
//!
//! The database is `--database-url`, else `DATABASE_URL`, else `DATABASE_URL` in `./.env`.
//!
//! This module is also the one definition of those commands for `cargo migrate`: [`Command`]
//! and [`Options`] are its database commands and their options, parsed by it before anything
//! is built, so both command lines accept the same arguments and print the same help; [`Exit`]
//! is the table of exit codes both use, and [`report_error`] the one way both print an error.
//!
//! Exit codes ([`Exit`]): 0 done; 1 a check found a difference (`check` found the database not
//! at its heads or with drift, `schema --check` a stale schema file, `test` found broken
//! downgrades); 2 the command line is wrong; 3 the command
//! failed or was refused (the message says why and what to do); 130 or 143 when Ctrl-C or
//! SIGTERM stopped a run (it says where the database stands). Output to a closed pipe (`… --sql
//! | head`) ends the command quietly.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use clap::{Args, Parser, Subcommand};
use migrate_core::chain::Chain;
use migrate_core::graph::NodeId;
use migrate_core::listing::{Listed, Listing, json_list, json_string, marks};
use migrate_core::target::TargetError;
use migrate_core::text::without_connection_strings;

use crate::error::rows_text;
use crate::fleet::{Fleet, Outcome, Target, TargetReport};
use crate::runner::{Migrator, Report, StepReport};
use crate::testkit::{self, TestkitError};

/// How a command ended: the exit codes of `cargo migrate` and of a binary's embedded
/// commands, one table for both.
///
/// | code | meaning |
/// |---|---|
/// | 0 | done |
/// | 1 | a check found a difference: `check` found rule violations or a database not at its heads, `test` found broken downgrades |
/// | 2 | the command line is wrong |
/// | 3 | the command failed or was refused; the message says why and what to do |
/// | 128 + signal (130, 143) | Ctrl-C or SIGTERM stopped a run; the message says where the database stands |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// 0: the command did what it was asked.
    Done,
    /// 1: a check found a difference: rule violations, a database not at its heads, broken
    /// downgrades.
    CheckFailed,
    /// 2: the command line is wrong.
    Usage,
    /// 3: the command failed or was refused; the message says why and what to do.
    Failed,
    /// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM): a signal stopped a run;
    /// the message says where the database stands.
    Interrupted(u8),
}

impl Exit {
    /// The process's exit code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::CheckFailed => 1,
            Exit::Usage => 2,
            Exit::Failed => 3,
            Exit::Interrupted(signal) => 128u8.saturating_add(signal),
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The options of every database command. Listed after a command's own options in its help,
/// in both command lines (clap would otherwise order them by where each line declares them).
#[derive(Args, Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {
    /// The database (else DATABASE_URL, else DATABASE_URL in ./.env).
    #[arg(long, global = true, value_name = "URL", display_order = 100)]
    pub database_url: Option<String>,
    /// Print JSON (current, heads, bases, history, show, check, a fan-out's report).
    #[arg(long, global = true, display_order = 101)]
    pub json: bool,
    /// Hold the migration lock as a lease row (in a table beside the version table, named after it)
    /// instead of an advisory lock; CockroachDB and YugabyteDB always do.
    #[arg(long, global = true, display_order = 102)]
    pub lease_lock: bool,
}

/// The options of a run that changes the database (`upgrade`, `downgrade`): a backup first,
/// and the targets of a fan-out run with how it goes.
#[derive(Args, Clone, Debug, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// Write a pg_dump backup (custom format) of each database into DIR before its first
    /// change, named with the database and its revision; a failed backup refuses the run.
    #[arg(long, value_name = "DIR")]
    pub backup_to: Option<std::path::PathBuf>,
    /// Report a standby or a read-only database as skipped instead of failed.
    #[arg(long)]
    pub skip_read_only: bool,
    /// Fan-out: migrate this database (repeatable; instead of --database-url).
    #[arg(long = "target", value_name = "URL", help_heading = "Fan-out")]
    pub targets: Vec<String>,
    /// Fan-out: migrate each database of FILE, a connection string per line (blank lines and
    /// lines starting with # aside).
    #[arg(long, value_name = "FILE", help_heading = "Fan-out")]
    pub targets_file: Option<std::path::PathBuf>,
    /// Fan-out: migrate each database whose name QUERY returns (its first column), run on
    /// --database-url, on that server with the same settings.
    #[arg(long, value_name = "QUERY", help_heading = "Fan-out")]
    pub databases_query: Option<String>,
    /// Fan-out: migrate each schema whose name QUERY returns (its first column), run on
    /// --database-url, in that database: a schema per tenant, holding its own version and
    /// history tables, its lock, and what the migrations create (search_path: the schema,
    /// then public).
    #[arg(long, value_name = "QUERY", help_heading = "Fan-out")]
    pub schemas_query: Option<String>,
    /// Fan-out: how many targets at once (fewer when the server has fewer free connections).
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "Fan-out")]
    pub jobs: usize,
    /// Fan-out: migrate the first N targets first, and stop there when one of them fails.
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Fan-out")]
    pub canary: usize,
    /// Fan-out: go on with the other targets when one fails (the exit is 3 all the same, the
    /// failed targets listed at the end).
    #[arg(long, help_heading = "Fan-out")]
    pub continue_on_error: bool,
}

impl RunOptions {
    /// Whether the run goes to many targets.
    fn is_fan_out(&self) -> bool {
        !self.targets.is_empty()
            || self.targets_file.is_some()
            || self.databases_query.is_some()
            || self.schemas_query.is_some()
    }
}

/// The database commands, as both command lines define them.
#[derive(Subcommand, Clone, Debug)]
#[non_exhaustive]
pub enum Command {
    /// The database's current revisions.
    Current,
    /// Apply migrations up to TARGET: head, heads, +N, a revision or a prefix, REV+N.
    ///
    /// On one database, or with --target, --targets-file, --databases-query or --schemas-query
    /// on many (a fan-out): each target is migrated by a run of its own, --jobs at a time, and
    /// reported with its revision before and after, its steps, its time and its error.
    Upgrade {
        /// Where to go.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it; TARGET may be a range FROM:TO (from base otherwise).
        #[arg(long)]
        sql: bool,
        /// Run every migration of the run in one transaction.
        #[arg(long)]
        one_transaction: bool,
        /// A backup first, and the targets of a fan-out run.
        #[command(flatten)]
        run: RunOptions,
    },
    /// Revert migrations down to TARGET: -N, base, a revision or a prefix, head-N.
    ///
    /// On one database, or on many as upgrade does (--target, --targets-file, …).
    Downgrade {
        /// Where to go.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it; TARGET must then be a range FROM:TO.
        #[arg(long)]
        sql: bool,
        /// Revert revisions this binary does not know (a newer release applied them) with the
        /// downgrade SQL the history stored when they were applied; without it, such a downgrade
        /// is refused, showing that SQL.
        #[arg(long, conflicts_with = "sql")]
        revert_newer: bool,
        /// A backup first, and the targets of a fan-out run.
        #[command(flatten)]
        run: RunOptions,
    },
    /// Set the version rows to TARGETS without running migrations.
    Stamp {
        /// The revisions (or base, head, heads).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Delete every version row first, unknown ones too.
        #[arg(long)]
        purge: bool,
    },
    /// Check the migrations, or with --db the database: exit 1 unless it is at the heads and
    /// its schema is what its revisions build.
    ///
    /// In a crate, cargo migrate check runs every compile-time rule over the migrations
    /// folder, printed as rustc prints them, without compiling, then checks that the schema
    /// file is what the head builds; with --db it checks the database instead. A binary's
    /// migrations were checked when it was built, so its check checks the database, with or
    /// without --db. The database is checked twice: at its heads, and without drift: the
    /// migrations are replayed up to its version rows on a throwaway database (on --dev-url's
    /// server, else on a throwaway PostgreSQL started from the machine's binaries; never on the
    /// checked server), and both schemas are compared, owners and privileges aside (roles differ
    /// between servers). Exit 1 marks a difference (for deploy gates).
    Check {
        /// Check the database: exit 1 unless it is at the heads and has no drift.
        #[arg(long)]
        db: bool,
        /// A server where throwaway databases may be created and dropped, to replay the
        /// migrations on (else MIGRATE_DEV_URL, else a throwaway PostgreSQL of this machine).
        #[arg(long, value_name = "URL")]
        dev_url: Option<String>,
    },
    /// Write the schema the head builds as SQL (the committed schema file), or check a file.
    ///
    /// The migrations are replayed to their heads on a throwaway database (on DATABASE_URL's
    /// server when set, else on a throwaway PostgreSQL), read through the schema model and
    /// written as a SQL script that rebuilds it, after a header naming the head. cargo migrate
    /// schema writes the crate's schema_file (default schema.sql beside Cargo.toml); the
    /// embedded command prints to stdout unless --output is given. With --check, the file is
    /// compared with what the head builds instead (as schemas: its SQL is run on a throwaway
    /// database and read back): exit 1 with the difference when it is stale.
    Schema {
        /// Check the file PATH (else --output's) instead of writing it: exit 1 when stale.
        #[arg(long, value_name = "PATH", num_args = 0..=1)]
        check: Option<Option<std::path::PathBuf>>,
        /// Write the file PATH instead of printing the schema.
        #[arg(long, value_name = "PATH")]
        output: Option<std::path::PathBuf>,
    },
    /// The history, newest first; with --db, marked applied or pending.
    History {
        /// Full entries.
        #[arg(long, short)]
        verbose: bool,
        /// A range START:END (either side may be empty).
        #[arg(long, short)]
        range: Option<String>,
        /// Mark what the database has applied.
        #[arg(long)]
        db: bool,
    },
    /// The heads of the history, then the effective heads (heads another revision depends on).
    Heads,
    /// The bases of the history: the revisions without a down revision.
    Bases,
    /// One revision in full.
    Show {
        /// A revision, a prefix, head or -N.
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
    /// Apply, revert and re-apply every migration on a throwaway database, comparing schemas.
    Test,
    /// Record the checksum applied migrations render now (after an edit that changes nothing).
    Accept {
        /// The revisions.
        #[arg(required = true)]
        revs: Vec<String>,
    },
}

/// The embedded command line: the database commands and their options.
#[derive(Parser)]
#[command(name = "migrate", about = "Apply, revert and inspect the migrations embedded in this binary")]
struct Cli {
    #[command(flatten)]
    options: Options,
    #[command(subcommand)]
    command: Command,
}

/// Parses a command line (`args` starts with the program's name), as both command lines do:
/// `--help` and `--version` are printed to stdout and end with [`Exit::Done`]; a wrong command
/// line is said on stderr, without any connection string it holds, and ends with
/// [`Exit::Usage`].
///
/// # Errors
///
/// The exit code, once the help or the error is printed.
pub fn parse<P: Parser>(args: &[String]) -> Result<P, Exit> {
    match P::try_parse_from(args) {
        Ok(parsed) => Ok(parsed),
        Err(error) if error.use_stderr() => {
            say(without_connection_strings(&error.render().to_string(), args).trim_end());
            Err(Exit::Usage)
        }
        Err(error) => {
            let _ = error.print();
            Err(Exit::Done)
        }
    }
}

/// Prints the error that ends a command: `error: ` and `message` on stderr, without any
/// connection string of the command line `args` (a misplaced argument may be quoted back).
/// Every error either command line prints goes through here.
pub fn report_error(message: &str, args: &[String]) {
    say(&format!("error: {}", without_connection_strings(message, args)));
}

/// The text of an error of the runtime, as the command lines show it: the one place to
/// change when errors grow more than their `Display`.
fn render(error: &crate::Error) -> String {
    error.report()
}

/// Runs a command from the process's arguments (after the program's name).
pub fn run(chain: &Chain) -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os().skip(1).map(|a| a.into_string()).collect();
    match args {
        Ok(args) => run_with_args(chain, &args),
        Err(_) => {
            say("error: an argument is not valid UTF-8 (not shown: it may hold a password)");
            Exit::Usage.into()
        }
    }
}

/// Runs a command from `args` (without the program's name, and without the word that chose
/// the migration commands, such as `migrate`).
pub fn run_with_args(chain: &Chain, args: &[String]) -> ExitCode {
    let line: Vec<String> = std::iter::once("migrate".to_owned()).chain(args.iter().cloned()).collect();
    let cli: Cli = match parse(&line) {
        Ok(cli) => cli,
        Err(exit) => return exit.into(),
    };
    match execute(chain, cli) {
        Ok(exit) | Err(Stop::Exit(exit)) => exit.into(),
        Err(Stop::Failed(message, exit)) => {
            report_error(&message, args);
            exit.into()
        }
    }
}

/// Why a command ends early.
enum Stop {
    /// With a message and an exit code.
    Failed(String, Exit),
    /// Quietly, with an exit code.
    Exit(Exit),
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Failed(message, Exit::Failed)
    }
}

impl From<crate::Error> for Stop {
    fn from(error: crate::Error) -> Stop {
        let exit = match &error {
            crate::Error::Interrupted { signal, .. } => {
                u8::try_from(*signal).map_or(Exit::Failed, Exit::Interrupted)
            }
            _ => Exit::Failed,
        };
        Stop::Failed(render(&error), exit)
    }
}

impl From<TargetError> for Stop {
    fn from(error: TargetError) -> Stop {
        Stop::from(error.to_string())
    }
}

impl From<TestkitError> for Stop {
    fn from(error: TestkitError) -> Stop {
        Stop::from(error.to_string())
    }
}

/// The summary of a run that succeeded: a stdout that cannot be written is said on stderr,
/// not turned into a failure, since the database did change.
fn emit_summary(text: &str) -> Result<(), Stop> {
    match emit(text) {
        Err(Stop::Failed(message, _)) => {
            say(&format!("warning: {message}"));
            Ok(())
        }
        other => other,
    }
}

/// Writes to stdout; a reader that went away ends the command quietly.
fn emit(text: &str) -> Result<(), Stop> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Stop::Exit(Exit::Done)),
        Err(e) => Err(Stop::from(format!("cannot write to stdout: {e}"))),
    }
}

/// Ctrl-C and SIGTERM stop a run that changes the database: the statement running is
/// cancelled and rolled back, and the run says where the database stands. A second one
/// ends the process at once.
fn interrupt_flag() -> Arc<AtomicUsize> {
    let flag = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let code = 128 + signal;
        let _ = signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&seen));
        let _ = signal_hook::flag::register(signal, Arc::clone(&seen));
        let _ = signal_hook::flag::register_usize(
            signal,
            Arc::clone(&flag),
            usize::try_from(signal).unwrap_or(0),
        );
    }
    flag
}

/// Writes a line to stderr; a closed stderr is not worth failing a run for.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn note(text: &str) {
    say(&format!("note: {text}"));
}

/// The database from the flag, the environment, or `./.env`.
fn database_url(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty())).or_else(|| {
        let text = std::fs::read_to_string(".env").ok()?;
        text.lines().find_map(|line| {
            let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
            let value = line.strip_prefix("DATABASE_URL=")?.trim();
            Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned())
        })
    })
}

/// The database of a command: `flag` (`--database-url`), else `DATABASE_URL`, else
/// `DATABASE_URL=` in `./.env`; the message when there is none. For `cargo migrate`'s own
/// database commands (`adopt`), which resolve it as these do.
///
/// # Errors
///
/// The message saying where to put it, when none of them is set.
pub fn need_url(flag: Option<String>) -> Result<String, String> {
    database_url(flag).ok_or_else(|| {
        "no database: set DATABASE_URL, put `DATABASE_URL=…` in ./.env, or pass --database-url".to_owned()
    })
}

fn progress(step: &StepReport) {
    say(&format!(
        "  {} {} {} ({:.1} ms)",
        step.direction.as_str(),
        step.rev,
        step.slug,
        step.duration.as_secs_f64() * 1e3
    ));
}

fn summary(report: &Report) -> String {
    format!(
        "database at {}: {} step(s), {} round trips",
        rows_text(&report.after),
        report.steps.len(),
        report.round_trips
    )
}

fn entries(chain: &Chain) -> Vec<Listed> {
    chain
        .iter()
        .map(|m| Listed {
            rev: m.rev.to_owned(),
            parents: m.parents.iter().map(|p| (*p).to_owned()).collect(),
            depends_on: m.depends_on.iter().map(|d| (*d).to_owned()).collect(),
            slug: m.slug.to_owned(),
            why: m.why.to_owned(),
            file: m.file.to_owned(),
        })
        .collect()
}

fn current_nodes(migrator: &Migrator, url: &str) -> Result<Vec<NodeId>, Stop> {
    let rows = migrator.current(url)?;
    let graph = migrator.graph();
    let unknown: Vec<&String> = rows.iter().filter(|r| graph.node(r).is_none()).collect();
    if let Some(first) = unknown.first() {
        return Err(crate::Error::UnknownRevision { revisions: vec![(*first).clone()] }.into());
    }
    Ok(rows.iter().filter_map(|r| graph.node(r)).collect())
}

/// The drift of the database `url` at version rows `rows`: what differs between the schema
/// those rows build, replayed on a throwaway database of the dev server (`dev_url`, else a
/// throwaway cluster of this machine; never the checked server, which may be production), and
/// the database's own, one line per change (`+` added outside migrations, `-` dropped, `~`
/// changed from the replay to the database).
fn drift(chain: &Chain, url: &str, rows: &[String], dev_url: Option<&str>) -> Result<Vec<String>, Stop> {
    // Its synchronous clients may not block a runtime's thread (a binary's `main` on tokio).
    crate::session::outside_runtime(|| drift_here(chain, url, rows, dev_url))
}

fn drift_here(chain: &Chain, url: &str, rows: &[String], dev_url: Option<&str>) -> Result<Vec<String>, Stop> {
    // Quiet: the replay is not a change of the user's database.
    let replayer = Migrator::new(chain);
    let graph = replayer.graph();
    let Some(nodes) = rows.iter().map(|r| graph.node(r)).collect::<Option<Vec<NodeId>>>() else {
        return Err(crate::Error::UnknownRevision {
            revisions: rows.iter().filter(|r| graph.node(r).is_none()).cloned().collect(),
        }
        .into());
    };
    let hidden = |message: String| match dev_url {
        Some(dev) => without_connection_strings(&message, &[dev.to_owned()]),
        None => message,
    };
    let cluster;
    let admin_url = match dev_url {
        Some(dev) => dev.to_owned(),
        None => {
            cluster = testkit::Cluster::start().map_err(|e| {
                format!(
                    "the drift check replays the migrations on a throwaway database, and no PostgreSQL could be \
                     started on this machine for it: {e}\n= help: install the PostgreSQL binaries (initdb, pg_ctl), \
                     or pass --dev-url URL: a server where throwaway databases may be created and dropped"
                )
            })?;
            cluster.url("postgres")
        }
    };
    let mut live = testkit::client(url)?;
    let mut dev = testkit::client(&admin_url).map_err(|e| {
        let cause = e.to_string();
        hidden(format!(
            "cannot reach the dev server, where the migrations are replayed: {}\n= help: check that it runs and \
             that --dev-url (or MIGRATE_DEV_URL) names it",
            cause.lines().next().unwrap_or_default()
        ))
    })?;
    let major = |client: &mut postgres::Client| {
        client
            .query_one("SELECT current_setting('server_version_num')::int / 10000", &[])
            .ok()
            .map(|row| row.get::<_, i32>(0))
    };
    if let (Some(ours), Some(theirs)) = (major(&mut dev), major(&mut live))
        && ours != theirs
    {
        note(&format!(
            "the dev server runs PostgreSQL {ours} and the database PostgreSQL {theirs}: definitions may print \
             differently, and show as drift"
        ));
    }
    drop(dev);
    let expected =
        testkit::replayed_schema(&replayer, &admin_url, &nodes).map_err(|e| hidden(e.to_string()))?;
    let found = testkit::schema(&mut live, &replayer)?;
    Ok(expected.diff(&found).iter().map(ToString::to_string).collect())
}

/// Which way a run that changes the database goes.
#[derive(Clone, Copy)]
enum Way {
    Upgrade,
    Downgrade,
}

/// `upgrade` or `downgrade` (not `--sql`) to `to`: on the one database, or on many.
fn changing(
    migrator: Migrator,
    to: &str,
    run: RunOptions,
    flag: Option<String>,
    json: bool,
    way: Way,
) -> Result<Exit, Stop> {
    let migrator = match &run.backup_to {
        Some(dir) => migrator.backup_to(dir),
        None => migrator,
    };
    if run.is_fan_out() {
        return fan_out(migrator, to, &run, flag, json, way);
    }
    if run.canary > 0 || run.continue_on_error {
        let given = if run.canary > 0 { "--canary" } else { "--continue-on-error" };
        return Err(Stop::Failed(
            format!(
                "{given} is for a fan-out run, over --target, --targets-file, --databases-query or --schemas-query"
            ),
            Exit::Usage,
        ));
    }
    let url = need_url(flag)?;
    let result = match way {
        Way::Upgrade => migrator.upgrade(url.as_str(), to),
        Way::Downgrade => migrator.downgrade(url.as_str(), to),
    };
    match result {
        Ok(report) => {
            let backup = report
                .backup
                .as_ref()
                .map(|file| format!(" (backup: {})", file.display()))
                .unwrap_or_default();
            emit_summary(&format!("{}{backup}\n", summary(&report)))?;
        }
        Err(error @ crate::Error::ReadOnly { .. }) if run.skip_read_only => {
            emit_summary(&format!("skipped: {error}\n"))?;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(Exit::Done)
}

/// The targets of a fan-out run, in the order given: `--target`s, then the file's, then the
/// queries' (run on `flag`'s database), each once.
fn fan_out_targets(run: &RunOptions, flag: Option<String>) -> Result<Vec<Target>, Stop> {
    let mut targets: Vec<Target> = Vec::new();
    for (i, url) in run.targets.iter().enumerate() {
        let target =
            Target::database(url).map_err(|e| format!("--target number {} cannot be used: {e}", i + 1))?;
        targets.push(target);
    }
    if let Some(file) = &run.targets_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the targets file {}: {e}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let target = Target::database(line).map_err(|e| {
                format!("line {} of the targets file {} cannot be used: {e}", n + 1, file.display())
            })?;
            targets.push(target);
        }
    }
    if run.databases_query.is_some() || run.schemas_query.is_some() {
        let url = need_url(flag)
            .map_err(|e| format!("--databases-query and --schemas-query run on a database: {e}"))?;
        let base = crate::Database::parse(&url)?;
        let mut client = crate::connect::connect(&url)?;
        let mut names = |option: &str, query: &str| -> Result<Vec<String>, Stop> {
            let messages = client.simple_query(query).map_err(|e| {
                format!("{option} failed on {}: {}", base.target(), crate::error::describe(&e))
            })?;
            Ok(messages
                .into_iter()
                .filter_map(|message| match message {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect())
        };
        if let Some(query) = &run.databases_query {
            for name in names("--databases-query", query)? {
                targets.push(Target::Database(base.with_dbname(&name)));
            }
        }
        if let Some(query) = &run.schemas_query {
            for name in names("--schemas-query", query)? {
                targets.push(Target::Schema { database: base.clone(), schema: name });
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    targets.retain(|target| {
        let name = target.name();
        let first = seen.insert(name.clone());
        if !first {
            note(&format!("{name} is listed more than once: it is migrated once"));
        }
        first
    });
    if targets.is_empty() {
        return Err("the fan-out has no targets: the file is empty or the queries returned no rows"
            .to_owned()
            .into());
    }
    Ok(targets)
}

/// A fan-out run: the targets, `--jobs` at a time, a progress bar on a terminal (else a line
/// per target as it ends), then a line per target in the order given and the totals; exit 3
/// when a target failed or was not run, naming them.
fn fan_out(
    migrator: Migrator,
    to: &str,
    run: &RunOptions,
    flag: Option<String>,
    json: bool,
    way: Way,
) -> Result<Exit, Stop> {
    use std::io::IsTerminal as _;
    let targets = fan_out_targets(run, flag)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} targets, {elapsed} ({eta} left) {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let shown = bar.clone();
    let fleet = Fleet::new(migrator.silenced())
        .jobs(run.jobs)
        .canary(run.canary)
        .keep_going(run.continue_on_error)
        .skip_read_only(run.skip_read_only)
        .on_done(move |report| match &shown {
            Some(bar) => {
                if report.is_failure() {
                    bar.println(format!("failed  {}", report.target));
                }
                bar.inc(1);
            }
            None => say(&format!("{} {}", report.outcome.kind(), report.target)),
        });
    let report = match way {
        Way::Upgrade => fleet.upgrade(&targets, to)?,
        Way::Downgrade => fleet.downgrade(&targets, to)?,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let count = |k: &str| report.targets.iter().filter(|t| t.outcome.kind() == k).count();
    let totals = format!(
        "{} targets ({} at a time): {} migrated, {} already there, {} skipped, {} failed, {} not run, in {:.1} s",
        report.targets.len(),
        report.jobs,
        count("migrated"),
        count("unchanged"),
        count("skipped"),
        count("failed"),
        count("not-run"),
        report.duration.as_secs_f64()
    );
    if json {
        let items: Vec<String> = report.targets.iter().map(target_json).collect();
        emit_summary(&format!(
            "{{\"targets\": [\n  {}\n], \"jobs\": {}, \"summary\": {}}}\n",
            items.join(",\n  "),
            report.jobs,
            json_string(&totals)
        ))?;
    } else {
        let mut text = String::new();
        for target in &report.targets {
            text.push_str(&format!("{:<9} {}: {}", target.outcome.kind(), target.target, target.outcome));
            if let Outcome::Done(done) = &target.outcome {
                text.push_str(&format!(" ({:.0} ms", target.duration.as_secs_f64() * 1e3));
                if let Some(file) = &done.backup {
                    text.push_str(&format!(", backup {}", file.display()));
                }
                text.push(')');
            }
            text.push('\n');
        }
        text.push_str(&totals);
        text.push('\n');
        emit_summary(&text)?;
    }
    for target in report.failed() {
        if let Outcome::Failed(error) = &target.outcome {
            say(&format!("error: {}: {}", target.target, render(error)));
        }
    }
    let failed: Vec<&str> = report.failed().map(|t| t.target.as_str()).collect();
    let not_run = report.not_run().count();
    if failed.is_empty() && not_run == 0 {
        return Ok(Exit::Done);
    }
    let mut message = format!("{} of {} targets failed", failed.len(), report.targets.len());
    if !failed.is_empty() {
        message.push_str(&format!(": {}", failed.join(", ")));
    }
    if not_run > 0 {
        message.push_str(&format!("; {not_run} not run"));
    }
    Err(Stop::Failed(message, Exit::Failed))
}

/// A target's report as a JSON object.
fn target_json(target: &TargetReport) -> String {
    let mut fields = vec![
        format!("\"target\": {}", json_string(&target.target)),
        format!("\"outcome\": {}", json_string(target.outcome.kind())),
        format!("\"ms\": {:.1}", target.duration.as_secs_f64() * 1e3),
    ];
    match &target.outcome {
        Outcome::Done(done) => {
            fields.push(format!("\"before\": {}", json_list(&done.before)));
            fields.push(format!("\"after\": {}", json_list(&done.after)));
            let steps: Vec<&str> = done.steps.iter().map(|s| s.rev).collect();
            fields.push(format!("\"steps\": {}", json_list(&steps)));
            if let Some(file) = &done.backup {
                fields.push(format!("\"backup\": {}", json_string(&file.display().to_string())));
            }
        }
        Outcome::Failed(error) | Outcome::Skipped(error) => {
            fields.push(format!("\"error\": {}", json_string(&render(error))));
        }
        Outcome::NotRun(why) => fields.push(format!("\"error\": {}", json_string(why))),
    }
    format!("{{{}}}", fields.join(", "))
}

/// Splits `FROM:TO` for `--sql` (`FROM` defaults to `default`).
fn sql_range<'t>(target: &'t str, default: Option<&'t str>) -> Result<(&'t str, &'t str), String> {
    match (target.split_once(':'), default) {
        (Some((from, to)), _) => Ok((if from.is_empty() { "base" } else { from }, to)),
        (None, Some(from)) => Ok((from, target)),
        (None, None) => Err(format!("downgrade --sql needs a range FROM:TO, such as `head:{target}`")),
    }
}

fn execute(chain: &Chain, cli: Cli) -> Result<Exit, Stop> {
    let migrator = match cli.command {
        // The stairway's hundreds of steps would bury its report; the schema's replay is no
        // change of the user's database.
        Command::Test | Command::Schema { .. } => Migrator::new(chain),
        Command::Upgrade { sql: false, .. }
        | Command::Downgrade { sql: false, .. }
        | Command::Stamp { .. } => {
            Migrator::new(chain).on_step(progress).on_note(note).interrupt_on(interrupt_flag())
        }
        _ => Migrator::new(chain).on_step(progress).on_note(note),
    };
    let Options { database_url: flag, json, lease_lock } = cli.options;
    let migrator = migrator.lease_lock(lease_lock);
    match cli.command {
        Command::Upgrade { sql: true, run, .. } | Command::Downgrade { sql: true, run, .. }
            if run.is_fan_out() || run.backup_to.is_some() || run.skip_read_only =>
        {
            return Err(Stop::Failed(
                "--sql prints a script and touches no database: it takes neither --backup-to, --skip-read-only \
                 nor fan-out targets"
                    .to_owned(),
                Exit::Usage,
            ));
        }
        Command::Upgrade { target, sql: true, one_transaction, .. } => {
            let (from, to) = sql_range(&target, Some("base"))?;
            emit(&migrator.one_transaction(one_transaction).upgrade_sql(from, to)?)?;
        }
        Command::Downgrade { target, sql: true, .. } => {
            let (from, to) = sql_range(&target, None)?;
            emit(&migrator.downgrade_sql(from, to)?)?;
        }
        Command::Upgrade { target, sql: false, one_transaction, run } => {
            let migrator = migrator.one_transaction(one_transaction);
            return changing(migrator, &target, run, flag, json, Way::Upgrade);
        }
        Command::Downgrade { target, sql: false, revert_newer, run } => {
            let migrator = migrator.revert_newer(revert_newer);
            return changing(migrator, &target, run, flag, json, Way::Downgrade);
        }
        Command::Stamp { targets, purge } => {
            let url = need_url(flag)?;
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            let report = migrator.stamp(url.as_str(), &targets, purge)?;
            emit_summary(&format!("{}\n", summary(&report)))?;
        }
        Command::Accept { revs } => {
            let url = need_url(flag)?;
            let revs: Vec<&str> = revs.iter().map(String::as_str).collect();
            migrator.accept_checksums(url.as_str(), &revs)?;
            emit_summary(&format!("accepted the checksums of {}\n", revs.join(", ")))?;
        }
        Command::Current => {
            let url = need_url(flag)?;
            let rows = migrator.current(url.as_str())?;
            let graph = migrator.graph();
            // The effective heads the rows stand for (a dependant's row implies them), as
            // Alembic's `current` shows them. A row that is itself an effective head is listed
            // once, as a row.
            let known: Vec<NodeId> = rows.iter().filter_map(|r| graph.node(r)).collect();
            let applied = graph.ancestors(&known);
            let effective: Vec<NodeId> =
                graph.effective_heads().into_iter().filter(|&e| applied[e] && !known.contains(&e)).collect();
            if json {
                emit(&format!(
                    "{{\"current\": {}, \"effective_heads\": {}}}\n",
                    json_list(&rows),
                    json_list(&graph.revs_of(&effective))
                ))?;
            } else if rows.is_empty() {
                emit("base (no migration applied)\n")?;
            } else {
                let entries = entries(chain);
                let listing = Listing::new(graph, &entries, None);
                for row in &rows {
                    match graph.node(row) {
                        Some(node) => emit(&format!("{}\n", listing.line(node)))?,
                        None => emit(&format!("{row} (unknown to this binary)\n"))?,
                    }
                }
                for &node in &effective {
                    emit(&format!("{}\n", listing.line(node)))?;
                }
            }
        }
        // The rules ran when this binary was built: its check is the database's.
        Command::Check { db: _, dev_url } => {
            let url = need_url(flag)?;
            let rows = migrator.current(url.as_str())?;
            let at_heads = migrator.are_heads(&rows);
            let graph = migrator.graph();
            let heads = graph.revs_of(&graph.heads());
            let dev_url = dev_url.or_else(|| std::env::var("MIGRATE_DEV_URL").ok().filter(|u| !u.is_empty()));
            let drift = drift(chain, &url, &rows, dev_url.as_deref())?;
            if json {
                emit(&format!(
                    "{{\"at_heads\": {at_heads}, \"current\": {}, \"heads\": {}, \"drift\": {}}}\n",
                    json_list(&rows),
                    json_list(&heads),
                    json_list(&drift)
                ))?;
            } else {
                if at_heads {
                    emit(&format!("the database is at its head ({})\n", heads.join(", ")))?;
                } else {
                    emit(&format!(
                        "the database is at {}, not at the head {}: run `upgrade head`\n",
                        rows_text(&rows),
                        heads.join(", ")
                    ))?;
                }
                if drift.is_empty() {
                    emit(&format!(
                        "its schema is what its revision(s) {} build: no drift (owners and privileges are not \
                         compared)\n",
                        rows_text(&rows)
                    ))?;
                } else {
                    emit(&format!(
                        "the database's schema differs from what its revision(s) {} build:\n{}\n(+ added outside \
                         migrations, - dropped outside migrations, ~ changed: built → found; owners and privileges \
                         are not compared)\n",
                        rows_text(&rows),
                        drift.join("\n")
                    ))?;
                }
            }
            return Ok(if at_heads && drift.is_empty() { Exit::Done } else { Exit::CheckFailed });
        }
        Command::Schema { check, output } => {
            let checked = match check {
                None => None,
                Some(Some(path)) => Some(path),
                Some(None) => Some(output.clone().ok_or_else(|| {
                    "schema --check needs the file to check: --check PATH (or --output PATH)".to_owned()
                })?),
            };
            if let Some(path) = checked {
                let lines = testkit::schema_file_differences(&migrator, &path)?;
                if lines.is_empty() {
                    emit(&format!("`{}` is what the head builds\n", path.display()))?;
                    return Ok(Exit::Done);
                }
                emit(&format!("error: {}\n", testkit::stale_schema_file(&path, &lines)))?;
                return Ok(Exit::CheckFailed);
            }
            let text = testkit::schema_file(&migrator)?;
            match output {
                None => emit(&text)?,
                Some(path) => {
                    std::fs::write(&path, &text)
                        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                    let graph = migrator.graph();
                    emit(&format!(
                        "wrote `{}`: the schema at head {}; commit it\n",
                        path.display(),
                        graph.revs_of(&graph.heads()).join(", ")
                    ))?;
                }
            }
        }
        Command::History { verbose, range, db } => {
            let graph = migrator.graph();
            let marks =
                if db { Some(marks(graph, &current_nodes(&migrator, &need_url(flag)?)?)) } else { None };
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, marks.as_deref());
            let nodes = listing.range(range.as_deref())?;
            if json {
                emit(&listing.json_array(&nodes))?;
            } else {
                emit(&listing.history(&nodes, verbose))?;
            }
        }
        Command::Heads => {
            let graph = migrator.graph();
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, None);
            if json {
                emit(&listing.json_array(&listing.head_nodes()))?;
            } else {
                emit(&listing.heads())?;
            }
        }
        Command::Bases => {
            let graph = migrator.graph();
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, None);
            if json {
                emit(&listing.json_array(&graph.bases()))?;
            } else {
                emit(&listing.bases())?;
            }
        }
        Command::Show { rev } => {
            let graph = migrator.graph();
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, None);
            let nodes = graph.resolve_str(&rev, &graph.heads())?;
            if json {
                emit(&listing.json_array(&nodes))?;
            } else {
                emit(&listing.history(&nodes, true))?;
            }
        }
        Command::Test => {
            let report = testkit::stairway(&migrator)?;
            emit(&format!("{report}\n"))?;
            return Ok(if report.is_ok() { Exit::Done } else { Exit::CheckFailed });
        }
    }
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_readme_table() {
        let codes: Vec<u8> = [
            Exit::Done,
            Exit::CheckFailed,
            Exit::Usage,
            Exit::Failed,
            Exit::Interrupted(2),
            Exit::Interrupted(15),
        ]
        .into_iter()
        .map(Exit::code)
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 130, 143]);
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}

//! Why a run was refused or stopped, each with the way out.

use std::fmt;
use std::time::Duration;

use migrate_core::target::TargetError;
use migrate_core::text::list;

/// A failed or refused run. Every message says what to do; none prints a password.
///
/// `Display` gives one line: what happened, with the server's or the driver's own words once
/// (so [`std::error::Error::source`] gives nothing more). [`Error::help`] says what to do, and
/// [`Error::report`] renders all of it over several lines, as the command line prints it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached.
    Connect {
        /// Who and where, from the parsed settings: never the password.
        target: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// A connection string that cannot be read.
    UnreadableConnectionString {
        /// Why, without any part of the string.
        reason: String,
    },
    /// TLS options of a connection string that cannot be used: an `sslmode` libpq does not
    /// know, `sslrootcert=system` with a mode weaker than `verify-full`, an option not
    /// supported. No value is shown (a part of a password may read as one).
    TlsSettings {
        /// What is wrong.
        problem: String,
        /// What to do.
        help: String,
    },
    /// The connection could not be secured as its settings ask: a certificate or key file
    /// that cannot be read, a server certificate that fails verification, a server without TLS.
    Tls {
        /// Who and where, from the parsed settings: never the password.
        target: String,
        /// What is wrong: the file, the certificate, the server.
        problem: String,
        /// What to do.
        help: String,
        /// The driver's error, when a connection was tried.
        source: Option<postgres::Error>,
    },
    /// A connection URL whose host or database name holds an `@`.
    MalformedUrl,
    /// The runner could not start its own I/O.
    Runtime(String),
    /// A connection lent to a run (`&tokio_postgres::Client`) that cannot serve it; nothing
    /// was changed.
    LentConnection {
        /// Why: inside a transaction, or serving (or left by) another run.
        reason: String,
    },
    /// A lent connection that could not be given back as it was lent: it may still hold the
    /// migration lock or the run's prepared statements.
    NotGivenBack {
        /// Why.
        reason: String,
        /// The run's own error, when it failed.
        run: Option<Box<Error>>,
    },
    /// A query of the runner itself failed.
    Database {
        /// What the runner was doing.
        context: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// Another runner held the lock for longer than the wait allowed.
    LockTimeout {
        /// How long the runner waited.
        waited: Duration,
        /// The version table the lock guards.
        table: String,
        /// The session that held it, when the server said.
        holder: Option<String>,
    },
    /// Another runner changed the version rows while this one ran a step: the step's
    /// transaction was rolled back.
    Conflict {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
        /// What the server found.
        detail: String,
        /// What this run left of the step.
        left: String,
    },
    /// `accept` of a revision the database has not applied.
    NotApplied {
        /// The revision.
        rev: String,
    },
    /// The version table is missing, though the history records runs.
    MissingVersionTable,
    /// The version table is missing, and the database holds another tool's version table or
    /// other objects: applying from the first migration would run again what is already
    /// there. Refused before anything changed.
    ExistingSchema {
        /// The version table looked for, schema-qualified.
        table: String,
        /// Other tools' version tables: the tool (`Diesel`), and the table, schema-qualified.
        tools: Vec<(String, String)>,
        /// The first few other objects, each with its kind (`table public.people`).
        objects: Vec<String>,
        /// How many other objects in all.
        count: usize,
    },
    /// Two version rows on one line: one is an ancestor of the other.
    OverlappingRows {
        /// The later row.
        row: String,
        /// Its ancestor, also a row.
        ancestor: String,
    },
    /// Migrations below the database's revision that the database never recorded as
    /// applied: added or moved below an applied one.
    Unrecorded {
        /// The migrations.
        migrations: Vec<Unrecorded>,
        /// The database's version rows.
        rows: Vec<String>,
    },
    /// The target does not name one place in the history.
    Target(TargetError),
    /// The database is at revisions this binary does not know.
    UnknownRevision {
        /// The unknown revisions.
        revisions: Vec<String>,
    },
    /// A downgrade on a database at revisions this binary does not know (a newer release
    /// applied them), without [`crate::Migrator::revert_newer`]: what reverting them would
    /// run, from the downgrades their history stored. Nothing was changed.
    Newer {
        /// The database's revisions this binary does not know.
        revisions: Vec<String>,
        /// Each stored downgrade that would run, in order: the revision and slug, then its
        /// statements.
        shown: Vec<String>,
    },
    /// Revisions this binary does not know whose history stored no downgrade: stamped, or
    /// applied before downgrades were stored. Nothing was changed.
    NotStored {
        /// The revisions.
        revisions: Vec<String>,
    },
    /// Applied migrations whose SQL changed since they ran.
    ChecksumMismatch(Vec<Mismatch>),
    /// A migration outside a transaction was interrupted or failed, leaving the schema
    /// half-changed.
    Dirty(Box<Unfinished>),
    /// A downgrade would cross a migration that cannot be undone.
    Irreversible {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
        /// The reason its downgrade gives.
        reason: String,
    },
    /// An upgrade target below what is applied.
    BelowCurrent {
        /// The target's revisions.
        target: Vec<String>,
        /// The database's revisions.
        current: Vec<String>,
    },
    /// A downgrade target that is not below what is applied.
    NotBelow {
        /// The target's revisions.
        target: Vec<String>,
        /// The database's revisions.
        current: Vec<String>,
    },
    /// One transaction for the whole run cannot hold a migration that refuses transactions.
    NotTransactional {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
    },
    /// The run was stopped by a signal (Ctrl-C, SIGTERM).
    Interrupted {
        /// The signal's number.
        signal: usize,
        /// The migration that was running, if one was.
        rev: Option<String>,
        /// Where the database stands.
        left: String,
    },
    /// A migration failed; the database is as it was before it (or, outside a transaction, as
    /// the error says).
    MigrationFailed(Box<Failure>),
    /// The database cannot be written: a standby in recovery, or read-only transactions
    /// (`default_transaction_read_only`); nothing was attempted.
    ReadOnly {
        /// Who and where, never the password.
        target: String,
        /// Why it cannot be written.
        why: String,
    },
    /// The lease of the migration lock could not be renewed in time, or was taken over after
    /// it expired: the run stopped before its next step.
    LeaseLost {
        /// The lease table.
        table: String,
        /// Where the database stands.
        left: String,
    },
    /// What the run asks cannot be done safely on the server's engine; nothing was changed.
    Unsupported {
        /// The engine: CockroachDB, YugabyteDB.
        engine: &'static str,
        /// What was asked.
        what: String,
        /// Why it cannot be made safe there.
        why: String,
    },
    /// A hook of [`crate::Migrator::before_changes`] refused the run; nothing was changed.
    Refused {
        /// Who and where, never the password.
        target: String,
        /// The hook's reason.
        reason: String,
    },
    /// The backup [`crate::Migrator::backup_to`] asks for could not be written, so the run
    /// was refused; nothing was changed.
    Backup {
        /// Who and where, never the password.
        target: String,
        /// Why: `pg_dump`'s own words, or what is missing.
        reason: String,
    },
    /// A statement of a migration waited longer than `lock_timeout` for a lock at every
    /// attempt (the first and each retry): the step failed as [`Error::MigrationFailed`] says
    /// of its last attempt, and the sessions that held the lock are named.
    Blocked {
        /// The failure of the last attempt.
        failure: Box<Failure>,
        /// How many times the step was tried (outside a transaction, the statement).
        attempts: usize,
        /// The sessions that held the lock at the last attempt, a line each: pid, application,
        /// state, how long its transaction had been open, and its query as PostgreSQL shows
        /// it, cut at 200 characters. Empty when they were not seen (on a lent connection,
        /// where the runner has no second session to look from).
        blocked_by: Vec<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        match self {
            Error::Connect { target, source } => write!(f, "cannot connect to {target}: {}", describe(source)),
            Error::UnreadableConnectionString { reason } => write!(f, "the connection string cannot be read: {reason}"),
            Error::TlsSettings { problem, .. } => {
                write!(f, "the connection string's TLS settings cannot be used: {problem}")
            }
            Error::Tls { target, problem, .. } => write!(f, "cannot connect to {target} over TLS: {problem}"),
            Error::MalformedUrl => f.write_str(
                "the connection URL cannot be read as written: an `@` stands where none can (not shown, since it is \
                 likely a part of a password)",
            ),
            Error::Runtime(text) => f.write_str(text),
            Error::LentConnection { reason } => {
                write!(f, "the connection lent to the run cannot serve it: {reason}; nothing was changed")
            }
            Error::NotGivenBack { reason, run: Some(run) } => {
                write!(f, "{run}; and the lent connection must not be reused: {reason}")
            }
            Error::NotGivenBack { reason, run: None } => {
                write!(f, "the run is done, but the lent connection must not be reused: {reason}")
            }
            Error::Database { context, source } => write!(f, "{context}: {}", describe(source)),
            Error::LockTimeout { waited, table, holder } => write!(
                f,
                "another migrator has held the migration lock on {table} for {waited:?}{}",
                holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default()
            ),
            Error::Conflict { rev, slug, detail, .. } => {
                write!(f, "another runner changed the version rows while this one applied {rev} ({slug}): {detail}")
            }
            Error::NotApplied { rev } => {
                write!(f, "{rev} is not applied to this database, so it has no recorded checksum to replace")
            }
            Error::MissingVersionTable => f.write_str(
                "the version table is missing, though the history table records runs: the database is not fresh, and \
                 applying from the first migration would fail or run migrations twice",
            ),
            Error::ExistingSchema { table, tools, objects, count } => {
                let mut found: Vec<String> =
                    tools.iter().map(|(tool, name)| format!("the {tool} table {name}")).collect();
                if *count > 0 {
                    let more = if *count > objects.len() { ", …" } else { "" };
                    found.push(format!(
                        "{count} {} no migration recorded ({}{more})",
                        plural(*count, "object", "objects"),
                        objects.join(", ")
                    ));
                }
                write!(
                    f,
                    "the database has no version table {table} but already has {}: applying from the first \
                     migration would run again what is already there",
                    found.join(" and ")
                )
            }
            Error::OverlappingRows { row, ancestor } => {
                write!(f, "the version rows overlap: {ancestor} is an ancestor of {row}, so both cannot be current")
            }
            Error::Unrecorded { migrations, rows } => write!(
                f,
                "{} below the database's revision {} {} never applied to it: {}; {} added or moved below an applied \
                 migration after the database passed that point",
                plural(migrations.len(), "migration", "migrations"),
                list(rows),
                plural(migrations.len(), "was", "were"),
                migrations.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                plural(migrations.len(), "it was", "they were"),
            ),
            Error::Target(error) => write!(f, "{error}"),
            Error::UnknownRevision { revisions } => write!(
                f,
                "the database is at revision {}, which this binary does not know: the database is newer than the \
                 code, or the migration was deleted",
                list(revisions)
            ),
            Error::Newer { revisions, shown } => write!(
                f,
                "the database is at revision {}, which this binary does not know (a newer release applied it): \
                 reverting it runs the downgrade{} the history stored when {} applied, not this binary's code",
                list(revisions),
                plural(shown.len(), "", "s"),
                plural(shown.len(), "it was", "they were")
            ),
            Error::NotStored { revisions } => write!(
                f,
                "revision {} is not known to this binary, and the history stored no downgrade for it (it was stamped, \
                 or applied by a release that did not store downgrades): this binary cannot revert it",
                list(revisions)
            ),
            Error::ChecksumMismatch(mismatches) => write!(
                f,
                "applied migration{} changed since {}: {}",
                plural(mismatches.len(), "", "s"),
                plural(mismatches.len(), "it ran", "they ran"),
                mismatches.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
            Error::Dirty(unfinished) => write!(f, "{unfinished}"),
            Error::Irreversible { rev, slug, reason } => {
                write!(f, "cannot downgrade through {rev} ({slug}): it is irreversible: {reason}")
            }
            Error::BelowCurrent { target, current } => {
                write!(f, "target {} is below the database's revision {}", list(target), list(current))
            }
            Error::NotBelow { target, current } => {
                write!(f, "target {} is not below the database's revision {}", list(target), list(current))
            }
            Error::NotTransactional { rev, slug } => write!(
                f,
                "migration {rev} ({slug}) cannot run inside a transaction, so the run cannot be one transaction"
            ),
            Error::Interrupted { signal, rev, left } => write!(
                f,
                "interrupted (signal {signal}){}: {left}",
                rev.as_ref().map(|r| format!(" while running {r}")).unwrap_or_default()
            ),
            Error::MigrationFailed(failure) => write!(f, "{failure}"),
            Error::ReadOnly { target, why } => {
                write!(f, "{target} cannot be migrated: {why}; nothing was attempted")
            }
            Error::LeaseLost { table, left } => write!(
                f,
                "the migration lease in {table} cannot be kept (not renewed in time, taken over after it expired, \
                 or no session to renew it), so the run stopped before its next change: {left}"
            ),
            Error::Unsupported { engine, what, why } => {
                write!(f, "{what} is refused on {engine}: {why}; nothing was changed")
            }
            Error::Refused { target, reason } => {
                write!(f, "the run on {target} was refused before its first change: {reason}; nothing was changed")
            }
            Error::Backup { target, reason } => {
                write!(f, "cannot back up {target}, so nothing was migrated: {reason}")
            }
            Error::Blocked { failure, attempts, blocked_by } => {
                write!(f, "{failure}, at each of {attempts} {}; ", plural(*attempts, "attempt", "attempts"))?;
                if blocked_by.is_empty() {
                    f.write_str("the session holding the lock was not seen")
                } else {
                    write!(f, "blocked by {}", blocked_by.join("; "))
                }
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<TargetError> for Error {
    fn from(error: TargetError) -> Error {
        Error::Target(error)
    }
}

impl Error {
    /// What to do about it, on one line, when there is something to say.
    pub fn help(&self) -> Option<String> {
        let help = match self {
            Error::Connect { .. } => "check that the server runs and that DATABASE_URL is right".to_owned(),
            Error::UnreadableConnectionString { .. } => {
                "check its options; in a URL, percent-encode the special characters of the password (`@` is %40, `&` \
                 is %26, `/` is %2F); in key=value form, quote it: password='…'"
                    .to_owned()
            }
            Error::TlsSettings { help, .. } | Error::Tls { help, .. } => help.clone(),
            Error::MalformedUrl => "percent-encode the special characters of the password (`@` is %40, `/` is %2F, `:` \
                 is %3A, `?` is %3F, `#` is %23), or pass the password in PGPASSWORD-style key=value settings"
                .to_owned(),
            Error::Database { source, .. } if source.is_closed() => {
                "run again: the runner reads where the database stands".to_owned()
            }
            Error::LockTimeout { .. } => "wait for it to finish; if none runs, a stuck session holds it: end it with \
                 `SELECT pg_terminate_backend(<pid>)`"
                .to_owned(),
            Error::Conflict { .. } => "run again: the runner reads where the database stands now; to keep two runners \
                 from racing, leave the migration lock on"
                .to_owned(),
            Error::NotApplied { .. } => "accept only applied migrations; apply this one with upgrade".to_owned(),
            Error::MissingVersionTable => "restore the version table, or record where the schema stands with `stamp \
                 <revision>` (it creates the table); nothing was changed"
                .to_owned(),
            Error::ExistingSchema { tools, .. } => {
                let adoptable: Vec<&str> = tools
                    .iter()
                    .map(|(tool, _)| tool.as_str())
                    .filter(|tool| ["Diesel", "sqlx", "refinery"].contains(tool))
                    .collect();
                let adopt = match adoptable.first() {
                    Some(tool) => format!(
                        "if the migrations were imported from {tool} (`cargo migrate import`), run `cargo migrate \
                         adopt`: it stamps the revision of the last migration {tool} applied; otherwise record "
                    ),
                    None => "record ".to_owned(),
                };
                format!(
                    "{adopt}the revision the database is at with `stamp <revision>`, then upgrade; if what it holds \
                     belongs to something else and the migrations really start from base here, run `stamp base` \
                     once (it creates the empty version table), then upgrade; nothing was changed"
                )
            }
            Error::OverlappingRows { .. } => {
                "record where the database really stands with `stamp --purge <revisions>`; nothing was changed"
                    .to_owned()
            }
            Error::Unrecorded { rows, .. } => format!(
                "if its changes are not in the database, give it a down_revision after the current head so that it \
                 runs next; if they are (it was applied by hand, or the database was stamped by an earlier version of \
                 migrate), record it with `stamp {}`; nothing was changed",
                rows.join(" ")
            ),
            Error::UnknownRevision { .. } => "run the code that has this migration; to bring the database back to \
                 this binary once no newer release uses it, `downgrade <this binary's head> --revert-newer` reverts what \
                 it does not know; if the migration was removed on purpose, record where the schema really stands with \
                 `stamp --purge <revision>`"
                .to_owned(),
            Error::Newer { .. } => "read the SQL above; to run it, downgrade again with `--revert-newer` \
                 (`Migrator::revert_newer(true)`); or deploy the code that has these migrations"
                .to_owned(),
            Error::NotStored { .. } => "revert it with the release that has it, or, once the schema is repaired by \
                 hand, record where it stands with `stamp --purge <revision>`"
                .to_owned(),
            Error::ChecksumMismatch(_) => "never edit a deployed migration: restore it as it was and write a new \
                 migration for the change; if the change alters nothing the database holds (a comment, formatting), \
                 accept it with `accept <revision>`"
                .to_owned(),
            Error::Dirty(unfinished) => unfinished.help(),
            Error::Irreversible { rev, .. } => {
                format!("downgrade to {rev} or a later revision, or restore a backup")
            }
            Error::BelowCurrent { .. } => "use downgrade to go back".to_owned(),
            Error::NotBelow { .. } => "use upgrade to go forward".to_owned(),
            Error::NotTransactional { .. } => "run it in the default mode, one transaction per migration".to_owned(),
            Error::Interrupted { .. } => "run again to go on from there".to_owned(),
            Error::LentConnection { .. } => "lend a connection outside a transaction and used by nothing else (a run \
                 takes its own transactions and the migration lock in that session), or pass a connection string; a \
                 connection whose run did not finish must be dropped"
                .to_owned(),
            Error::NotGivenBack { run, .. } => {
                let then = run.as_ref().and_then(|run| run.help()).map(|help| format!("; then {help}")).unwrap_or_default();
                format!("drop this connection instead of giving it back to its pool: it may still hold the migration lock{then}")
            }
            Error::MigrationFailed(failure) => failure.help(),
            Error::ReadOnly { .. } => "migrate the primary (a standby follows it); in a fan-out run, --skip-read-only \
                 reports such targets as skipped instead of failed"
                .to_owned(),
            Error::Refused { .. } => "deal with what the hook refused, then run again".to_owned(),
            Error::LeaseLost { .. } => "run again once the server can be reached from a second session (the lease is \
                 renewed from one); a longer lease_ttl tolerates longer cuts"
                .to_owned(),
            Error::Unsupported { .. } => {
                "run in the default mode, where each migration is a step of its own".to_owned()
            }
            Error::Backup { .. } => "make the backup possible (the folder writable, pg_dump installed and as new as the \
                 server), or run without --backup-to"
                .to_owned(),
            Error::Blocked { failure, .. } => format!(
                "{}; the session named above holds the lock: let it finish, or end it if it is stuck \
                 (`SELECT pg_terminate_backend(<pid>)`)",
                failure.help()
            ),
            Error::Runtime(_) | Error::Database { .. } | Error::Target(_) => return None,
        };
        Some(help)
    }

    /// What else the message has to say, a line each (`= note: …`, or indented details).
    fn notes(&self) -> Vec<String> {
        match self {
            Error::NotGivenBack { run: Some(run), .. } => run.notes(),
            Error::Database { source, .. } if source.is_closed() => {
                vec![format!("= note: {CONNECTION_LOST}")]
            }
            Error::Conflict { left, .. } => vec![format!("= note: {left}")],
            Error::Newer { shown, .. } => shown.iter().map(|step| format!("  would revert {step}")).collect(),
            Error::Dirty(unfinished) => {
                unfinished.left.iter().map(|left| format!("  left: {left}")).collect()
            }
            Error::MigrationFailed(failure) => failure.notes(),
            Error::Blocked { failure, attempts, blocked_by } => {
                let mut notes = failure.notes();
                let at = notes.iter().position(|note| note.starts_with("= note")).unwrap_or(notes.len());
                let mut seen: Vec<String> = blocked_by.iter().map(|b| format!("  blocked by: {b}")).collect();
                if seen.is_empty() {
                    seen.push(
                        "  blocked by: not seen (the runner looks from a second session: there is none on a lent \
                         connection, or it could not connect in time)"
                            .to_owned(),
                    );
                }
                notes.splice(at..at, seen);
                notes.push(format!(
                    "= note: tried {attempts} {}: each attempt gave up when a lock was not granted within lock_timeout",
                    plural_of(*attempts)
                ));
                notes
            }
            _ => Vec::new(),
        }
    }

    /// The whole message over several lines, as the command line prints it: the line of
    /// `Display`, the details and notes, then `= help: …`.
    pub fn report(&self) -> String {
        let mut text = match self {
            Error::MigrationFailed(failure) | Error::Blocked { failure, .. } => failure.headline(),
            _ => self.to_string(),
        };
        for note in self.notes() {
            text.push('\n');
            text.push_str(&note);
        }
        if let Some(help) = self.help() {
            text.push_str("\n= help: ");
            text.push_str(&help);
        }
        text
    }
}

/// A step outside a transaction that was interrupted or failed, as the database shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unfinished {
    /// The revision.
    pub rev: String,
    /// Its slug.
    pub slug: String,
    /// Its file.
    pub file: String,
    /// `upgrade` or `downgrade`.
    pub direction: String,
    /// Whether it was interrupted (no end recorded) rather than failed.
    pub interrupted: bool,
    /// What its statements left, as far as the catalog tells (indexes, enum values).
    pub left: Vec<String>,
    /// Whether the catalog shows that every statement took effect.
    pub finished: bool,
    /// The version rows to stamp to run it again: where the database stands.
    pub retry: Vec<String>,
    /// The version rows to stamp to record it as done.
    pub done: Vec<String>,
}

impl Unfinished {
    /// The version rows the way out stamps: [`Unfinished::done`] when every statement took
    /// effect, else [`Unfinished::retry`].
    pub fn way_out(&self) -> &[String] {
        if self.finished { &self.done } else { &self.retry }
    }
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of migration {} ({}, {}) ran outside a transaction and {}",
            self.direction,
            self.rev,
            self.slug,
            self.file,
            if self.interrupted { "was interrupted" } else { "failed" }
        )
    }
}

impl Unfinished {
    /// The way out: record the step as done, or clear its mark to run it again.
    fn help(&self) -> String {
        let direction = &self.direction;
        let way = if self.finished {
            format!(
                "every statement took effect: record that the {direction} is done with `stamp {}`",
                rows_text(&self.done)
            )
        } else {
            format!(
                "to run it again from its first statement, clear the mark with `stamp {}` (where the database stands), \
                 then {direction} again: an index an interrupted `CREATE INDEX CONCURRENTLY` left INVALID is dropped \
                 before the build is retried, but undo by hand first what else it left that cannot run twice; if you \
                 completed it by hand, `stamp {}`",
                rows_text(&self.retry),
                rows_text(&self.done)
            )
        };
        format!("{way}; runs are refused until then")
    }
}

/// A migration below the database's revision with no record of being applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unrecorded {
    /// The revision.
    pub rev: String,
    /// Its file.
    pub file: String,
}

impl fmt::Display for Unrecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.rev, self.file)
    }
}

/// "time" or "times".
fn plural_of(n: usize) -> &'static str {
    if n == 1 { "time" } else { "times" }
}

/// Version rows as messages name them: `base` when there are none.
pub(crate) fn rows_text(rows: &[String]) -> String {
    if rows.is_empty() { "base".to_owned() } else { rows.join(" ") }
}

/// Said when the runner's connection closed under it.
const CONNECTION_LOST: &str = "the connection to the server was lost (network, server restart, or the server ended the \
     session), and the migration lock with it; a step in flight committed entirely or not at all";

/// An applied migration whose SQL changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mismatch {
    /// The revision.
    pub rev: String,
    /// Its file.
    pub file: String,
    /// The checksum recorded when it ran.
    pub recorded: String,
    /// The checksum of the SQL it renders now.
    pub compiled: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) ran with checksum {}, renders {} now",
            self.rev,
            self.file,
            self.recorded.chars().take(12).collect::<String>(),
            self.compiled.chars().take(12).collect::<String>()
        )
    }
}

/// A migration that failed, with everything PostgreSQL said.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The revision.
    pub rev: String,
    /// Its slug.
    pub slug: String,
    /// Its file.
    pub file: String,
    /// `upgrade` or `downgrade`.
    pub direction: &'static str,
    /// Whether it ran inside a transaction (then nothing of it remains).
    pub transactional: bool,
    /// The failing statement's 0-based index and the number of statements, when known.
    pub statement_index: Option<(usize, usize)>,
    /// The operation the statement came from.
    pub op: Option<String>,
    /// The failing statement.
    pub statement: Option<String>,
    /// PostgreSQL's message.
    pub message: String,
    /// PostgreSQL's SQLSTATE code.
    pub code: Option<String>,
    /// PostgreSQL's detail.
    pub detail: Option<String>,
    /// PostgreSQL's hint.
    pub hint: Option<String>,
    /// The 1-based character position of the error in the statement.
    pub position: Option<usize>,
    /// What kind of failure it is, which decides the help.
    pub cause: Cause,
    /// Whether every statement of a migration outside a transaction had run, and only the
    /// record of its end failed.
    pub after_statements: bool,
}

/// Why a migration failed, as far as the way out depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The statement itself, or the data it met.
    Statement,
    /// An object it creates already exists.
    AlreadyExists,
    /// The connection closed: network, server crash, the session ended by the server.
    ConnectionLost,
    /// The server is shutting down or restarting, or an administrator ended the session.
    Shutdown,
    /// It waited longer than `lock_timeout` for a lock.
    LockTimeout,
    /// It ran longer than `statement_timeout`, or was cancelled.
    StatementTimeout,
    /// A serialization failure or a deadlock with a concurrent transaction.
    Concurrency,
    /// The server or the session is read-only (a standby).
    ReadOnly,
    /// The server ran out of disk, memory or connections.
    Resources,
    /// A statement that cannot run inside a transaction ran in one.
    NeedsNoTransaction,
}

impl Cause {
    /// The cause of an error with SQLSTATE `code` (none: the connection closed).
    pub(crate) fn of(code: Option<&str>, closed: bool) -> Cause {
        match code {
            _ if closed => Cause::ConnectionLost,
            None => Cause::ConnectionLost,
            Some("57P01" | "57P02" | "57P03") => Cause::Shutdown,
            // The server ended an idle session or a session idle in a transaction.
            Some("57P05" | "25P03") => Cause::ConnectionLost,
            Some(c) if c.starts_with("08") => Cause::ConnectionLost,
            Some("55P03") => Cause::LockTimeout,
            Some("57014") => Cause::StatementTimeout,
            Some("40001" | "40P01") => Cause::Concurrency,
            Some("25006") => Cause::ReadOnly,
            Some(c) if c.starts_with("53") => Cause::Resources,
            Some("25001") => Cause::NeedsNoTransaction,
            Some(c) if ALREADY_EXISTS.contains(&c) => Cause::AlreadyExists,
            Some(_) => Cause::Statement,
        }
    }
}

/// SQLSTATE codes of "this object already exists".
const ALREADY_EXISTS: &[&str] = &["42P07", "42710", "42701", "42P06", "42723", "42P16"];

impl fmt::Display for Failure {
    /// One line: where it failed, and PostgreSQL's message and code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.headline(), self.message)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

impl Failure {
    /// Which migration failed, where.
    fn headline(&self) -> String {
        let mut text =
            format!("{} of migration {} ({}, {}) failed", self.direction, self.rev, self.slug, self.file);
        if let Some((index, count)) = self.statement_index {
            text.push_str(&format!(" at statement {} of {count}", index + 1));
        }
        if let Some(op) = &self.op {
            text.push_str(&format!(", from {op}"));
        }
        text
    }

    /// The statement, everything PostgreSQL said, and where the database stands.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(statement) = &self.statement {
            notes.push(format!("  statement: {}", statement.replace('\n', "\n             ")));
        }
        let code = self.code.as_ref().map(|code| format!(" ({code})")).unwrap_or_default();
        notes.push(format!("  error: {}{code}", self.message));
        for (label, value) in [("detail", &self.detail), ("hint", &self.hint)] {
            if let Some(value) = value {
                notes.push(format!("  {label}: {value}"));
            }
        }
        if let Some(position) = self.position {
            notes.push(format!("  position: character {position} of the statement"));
        }
        if self.after_statements {
            let how = match self.cause {
                Cause::ConnectionLost | Cause::Shutdown => {
                    "the connection to the server was lost while its end was being recorded, which committed or not"
                }
                _ => "only the record of its end failed",
            };
            notes.push(format!("= note: every statement ran (outside a transaction); {how}"));
            return notes;
        }
        let state = match (self.transactional, self.cause) {
            (true, Cause::ConnectionLost) => {
                "the connection was lost during the migration's transaction: it committed entirely or not at all, \
                 and the version rows say which"
            }
            (true, _) => "the migration was rolled back: the database is as it was before it",
            (false, _) => "it ran outside a transaction: the statements before this one stay applied",
        };
        notes.push(format!("= note: {state}"));
        notes
    }

    /// What to do, by cause.
    pub fn help(&self) -> String {
        if self.after_statements {
            return "run again: the next run goes on from there, or refuses the migration as unfinished and says how \
                    to record it"
                .to_owned();
        }
        let retry = if self.transactional {
            "run again: the runner reads where the database stands and goes on from there"
        } else {
            "clear the mark with `stamp` of the database's revision, then run again"
        };
        let help = match self.cause {
            Cause::AlreadyExists => format!(
                "the object already exists: if this database was built outside migrate, record that it \
                 already has this migration with `stamp {}` instead of applying it",
                self.rev
            ),
            Cause::ConnectionLost => format!("the server or the network dropped the connection: {retry}"),
            Cause::Shutdown => format!(
                "the server is shutting down or restarting, or an administrator ended the session: {retry} once it is back"
            ),
            Cause::LockTimeout => format!(
                "another session held a lock the migration needs for longer than lock_timeout: {retry} when traffic is lower, \
                 or raise the migration's lock timeout (`op.lock_timeout(…)`, or `Migrator::lock_timeout` for the run)"
            ),
            Cause::StatementTimeout => "the statement ran longer than statement_timeout or was cancelled: raise the migration's \
                 `op.statement_timeout(…)`, or do the work in smaller batches"
                .to_owned(),
            Cause::Concurrency => format!("a concurrent transaction conflicted with the migration: {retry}"),
            Cause::ReadOnly => {
                "the server accepts no writes (a standby, or default_transaction_read_only): run against the primary"
                    .to_owned()
            }
            Cause::Resources => format!("the server ran out of disk, memory or connections: free them, then {retry}"),
            Cause::NeedsNoTransaction => "this statement cannot run inside a transaction: mark the migration `transactional = false` \
                 in its #[migration] attribute"
                .to_owned(),
            Cause::Statement if self.transactional => "fix the migration (or the data it trips on) and run again".to_owned(),
            Cause::Statement => "finish or undo the change by hand, then `stamp` where the schema stands".to_owned(),
        };
        if self.transactional || matches!(self.cause, Cause::Statement | Cause::AlreadyExists) {
            help
        } else {
            format!(
                "{help}; the statements before this one stay applied: clear the mark with `stamp` of the database's revision before running again"
            )
        }
    }
}

/// What PostgreSQL or the driver said, in full: the driver's own `Display` says only "db
/// error" for a server error.
pub fn describe(error: &postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        return text;
    };
    let mut text = format!("{} ({})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        text.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_says_what_and_what_to_do() {
        let failure = Failure {
            rev: "3f2a9c1b7d4e".into(),
            slug: "add_lead_scores_table".into(),
            file: "migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs".into(),
            direction: "upgrade",
            transactional: true,
            statement_index: Some((0, 1)),
            op: Some("create_table(\"lead_scores\")".into()),
            statement: Some("CREATE TABLE \"lead_scores\" (\n    \"id\" bigserial\n)".into()),
            message: "relation \"lead_scores\" already exists".into(),
            code: Some("42P07".into()),
            detail: None,
            hint: None,
            position: None,
            cause: Cause::AlreadyExists,
            after_statements: false,
        };
        let error = Error::MigrationFailed(Box::new(failure));
        // One line, PostgreSQL's words once.
        let line = error.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.ends_with(
                "from create_table(\"lead_scores\"): relation \"lead_scores\" already exists (42P07)"
            ),
            "{line}"
        );
        assert_eq!(line.matches("already exists").count(), 1, "{line}");
        assert!(std::error::Error::source(&error).is_none());
        let help = error.help().unwrap_or_default();
        assert!(help.contains("`stamp 3f2a9c1b7d4e` instead of applying it"), "{help}");
        // All of it, as the command line prints it.
        let text = error.report();
        assert!(text.starts_with(
            "upgrade of migration 3f2a9c1b7d4e (add_lead_scores_table, migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs) failed at statement 1 of 1, from create_table(\"lead_scores\")"
        ));
        assert!(text.contains("error: relation \"lead_scores\" already exists (42P07)"), "{text}");
        assert!(text.contains("the database is as it was before it"), "{text}");
        assert!(text.contains("  statement: CREATE TABLE"), "{text}");
        assert!(text.ends_with(&format!("\n= help: {help}")), "{text}");
    }

    #[test]
    fn every_message_is_one_line_and_its_help_is_apart() {
        let errors = [
            Error::MalformedUrl,
            Error::ExistingSchema {
                table: "public.alembic_version".into(),
                tools: vec![("Diesel".into(), "public.__diesel_schema_migrations".into())],
                objects: vec!["table public.people".into()],
                count: 3,
            },
            Error::UnknownRevision { revisions: vec!["ab12".into()] },
            Error::Conflict {
                rev: "a".into(),
                slug: "s".into(),
                detail: "expected {b}, found {c}".into(),
                left: "nothing".into(),
            },
            Error::Interrupted { signal: 15, rev: Some("a".into()), left: "the database is at base".into() },
            Error::Dirty(Box::new(Unfinished {
                rev: "a".into(),
                slug: "s".into(),
                file: "f.rs".into(),
                direction: "upgrade".into(),
                interrupted: true,
                left: vec!["index i: INVALID".into()],
                finished: false,
                retry: vec![],
                done: vec!["a".into()],
            })),
        ];
        for error in errors {
            let line = error.to_string();
            let help = error.help().unwrap_or_default();
            assert!(
                !line.contains('\n') && !line.contains("= help") && !help.contains('\n'),
                "{line} / {help}"
            );
            assert!(!help.is_empty() && !line.contains(&help), "{line} / {help}");
            assert!(
                error.report().starts_with(&line) && error.report().ends_with(&help),
                "{}",
                error.report()
            );
        }
    }

    #[test]
    fn a_step_blocked_at_every_attempt_names_who_blocked_it() {
        let failure = Failure {
            rev: "eeee00000005".into(),
            slug: "add_people_phone_column".into(),
            file: "migrations/eeee00000005_add_people_phone_column.rs".into(),
            direction: "upgrade",
            transactional: true,
            statement_index: Some((0, 1)),
            op: Some("add_column(\"people\")".into()),
            statement: Some("ALTER TABLE \"people\" ADD COLUMN \"phone\" text".into()),
            message: "canceling statement due to lock timeout".into(),
            code: Some("55P03".into()),
            detail: None,
            hint: None,
            position: None,
            cause: Cause::LockTimeout,
            after_statements: false,
        };
        let blocker = "pid 42 (psql), idle in transaction, its transaction open for 3.2 s, query: SELECT 1";
        let error = Error::Blocked {
            failure: Box::new(failure.clone()),
            attempts: 5,
            blocked_by: vec![blocker.into()],
        };
        let line = error.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.ends_with(&format!("(55P03), at each of 5 attempts; blocked by {blocker}")), "{line}");
        let text = error.report();
        assert!(
            text.contains(&format!("\n  blocked by: {blocker}\n= note: the migration was rolled back")),
            "{text}"
        );
        assert!(text.contains("= note: tried 5 times"), "{text}");
        assert!(text.ends_with("end it if it is stuck (`SELECT pg_terminate_backend(<pid>)`)"), "{text}");
        let unseen = Error::Blocked { failure: Box::new(failure), attempts: 1, blocked_by: Vec::new() };
        assert!(
            unseen.to_string().ends_with("at each of 1 attempt; the session holding the lock was not seen")
        );
        assert!(unseen.report().contains("  blocked by: not seen"), "{}", unseen.report());
    }

    #[test]
    fn a_recorded_checksum_of_any_text_is_shown_cut_by_characters() {
        let mismatch = Mismatch {
            rev: "a".into(),
            file: "f.rs".into(),
            recorded: "abcdefghijkéz".into(),
            compiled: "0123456789abcdef".into(),
        };
        assert_eq!(mismatch.to_string(), "a (f.rs) ran with checksum abcdefghijké, renders 0123456789ab now");
    }
}

//! Why a run was refused or stopped, each with the way out.

use std::fmt;
use std::time::Duration;

use migrate_core::target::TargetError;
use migrate_core::text::list;

/// A failed or refused run. Every message says what to do; none prints a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached.
    #[error("cannot connect to {target}: {}\n= help: check that the server runs and that DATABASE_URL is right", describe(.source))]
    Connect {
        /// Who and where, from the parsed settings: never the password.
        target: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// A connection string that cannot be read.
    #[error(
        "the connection string cannot be read: {reason}\n\
         = help: check its options; in a URL, percent-encode the special characters of the password (`@` is %40, `&` is %26, \
         `/` is %2F); in key=value form, quote it: password='…'"
    )]
    UnreadableConnectionString {
        /// Why, without any part of the string.
        reason: String,
    },
    /// TLS options of a connection string that cannot be used: an `sslmode` libpq does not
    /// know, `sslrootcert=system` with a mode weaker than `verify-full`, an option not
    /// supported. No value is shown (a part of a password may read as one).
    #[error("the connection string's TLS settings cannot be used: {problem}\n= help: {help}")]
    TlsSettings {
        /// What is wrong.
        problem: String,
        /// What to do.
        help: String,
    },
    /// The connection could not be secured as its settings ask: a certificate or key file
    /// that cannot be read, a server certificate that fails verification, a server without TLS.
    #[error("cannot connect to {target} over TLS: {problem}\n= help: {help}")]
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
    #[error(
        "the connection URL cannot be read as written: an `@` stands where none can (not shown, since it is likely a part of a password)\n\
         = help: percent-encode the special characters of the password (`@` is %40, `/` is %2F, `:` is %3A, `?` is %3F, `#` is %23), or pass the password in PGPASSWORD-style key=value settings"
    )]
    MalformedUrl,
    /// The runner could not start its own I/O.
    #[error("{0}")]
    Runtime(String),
    /// A query of the runner itself failed.
    #[error("{context}: {}{}", describe(.source), if .source.is_closed() { CONNECTION_LOST } else { "" })]
    Database {
        /// What the runner was doing.
        context: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// Another runner held the lock for longer than the wait allowed.
    #[error(
        "another migrator has held the migration lock on {table} for {waited:?}{}\n= help: wait for it to finish; if none runs, a stuck session holds it: \
         end it with `SELECT pg_terminate_backend(<pid>)`",
        .holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default()
    )]
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
    #[error(
        "another runner changed the version rows while this one applied {rev} ({slug}): {detail}\n\
         = note: {left}\n\
         = help: run again: the runner reads where the database stands now; to keep two runners from racing, leave the migration lock on"
    )]
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
    #[error(
        "{rev} is not applied to this database, so it has no recorded checksum to replace\n= help: accept only applied migrations; apply this one with upgrade"
    )]
    NotApplied {
        /// The revision.
        rev: String,
    },
    /// The version table is missing, though the history records runs.
    #[error(
        "the version table is missing, though the history table records runs: the database is not fresh, and applying from \
         the first migration would fail or run migrations twice\n\
         = help: restore the version table, or record where the schema stands with `stamp <revision>` (it creates the table); nothing was changed"
    )]
    MissingVersionTable,
    /// Two version rows on one line: one is an ancestor of the other.
    #[error(
        "the version rows overlap: {ancestor} is an ancestor of {row}, so both cannot be current\n\
         = help: record where the database really stands with `stamp --purge <revisions>`; nothing was changed"
    )]
    OverlappingRows {
        /// The later row.
        row: String,
        /// Its ancestor, also a row.
        ancestor: String,
    },
    /// Migrations below the database's revision that the database never recorded as
    /// applied: added or moved below an applied one.
    #[error(
        "{} below the database's revision {} {} never applied to it: {}; {} added or moved below an applied migration after the database passed that point\n\
         = help: if its changes are not in the database, give it a down_revision after the current head so that it runs next; \
         if they are (it was applied by hand, or the database was stamped by an earlier version of migrate), record it with `stamp {}`; nothing was changed",
        if .migrations.len() == 1 { "migration" } else { "migrations" },
        list(.rows),
        if .migrations.len() == 1 { "was" } else { "were" },
        .migrations.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        if .migrations.len() == 1 { "it was" } else { "they were" },
        .rows.join(" ")
    )]
    Unrecorded {
        /// The migrations.
        migrations: Vec<Unrecorded>,
        /// The database's version rows.
        rows: Vec<String>,
    },
    /// The target does not name one place in the history.
    #[error("{0}")]
    Target(#[from] TargetError),
    /// The database is at revisions this binary does not know.
    #[error(
        "the database is at revision {}, which this binary does not know: the database is newer than the code, or the migration was deleted\n\
         = help: deploy the code that has this migration; if it was removed on purpose, record where the schema really stands with `stamp --purge <revision>`",
        list(.revisions)
    )]
    UnknownRevision {
        /// The unknown revisions.
        revisions: Vec<String>,
    },
    /// Applied migrations whose SQL changed since they ran.
    #[error(
        "applied migration{} changed since {}: {}\n= help: never edit a deployed migration: restore it as it was and write a new migration for the change; \
         if the change alters nothing the database holds (a comment, formatting), accept it with `accept <revision>`",
        if .0.len() == 1 { "" } else { "s" },
        if .0.len() == 1 { "it ran" } else { "they ran" },
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    ChecksumMismatch(Vec<Mismatch>),
    /// A migration outside a transaction was interrupted or failed, leaving the schema
    /// half-changed.
    #[error("{0}")]
    Dirty(Box<Unfinished>),
    /// A downgrade would cross a migration that cannot be undone.
    #[error(
        "cannot downgrade through {rev} ({slug}): it is irreversible: {reason}\n= help: downgrade to {rev} or a later revision, or restore a backup"
    )]
    Irreversible {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
        /// The reason its downgrade gives.
        reason: String,
    },
    /// An upgrade target below what is applied.
    #[error(
        "target {} is below the database's revision {}\n= help: use downgrade to go back",
        list(.target),
        list(.current)
    )]
    BelowCurrent {
        /// The target's revisions.
        target: Vec<String>,
        /// The database's revisions.
        current: Vec<String>,
    },
    /// A downgrade target that is not below what is applied.
    #[error(
        "target {} is not below the database's revision {}\n= help: use upgrade to go forward",
        list(.target),
        list(.current)
    )]
    NotBelow {
        /// The target's revisions.
        target: Vec<String>,
        /// The database's revisions.
        current: Vec<String>,
    },
    /// One transaction for the whole run cannot hold a migration that refuses transactions.
    #[error(
        "migration {rev} ({slug}) cannot run inside a transaction, so the run cannot be one transaction\n= help: run it in the default mode, one transaction per migration"
    )]
    NotTransactional {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
    },
    /// The run was stopped by a signal (Ctrl-C, SIGTERM).
    #[error(
        "interrupted (signal {signal}){}: {left}\n= help: run again to go on from there",
        .rev.as_ref().map(|r| format!(" while running {r}")).unwrap_or_default()
    )]
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
    #[error("{0}")]
    MigrationFailed(Box<Failure>),
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
        let direction = &self.direction;
        write!(
            f,
            "{direction} of migration {} ({}, {}) ran outside a transaction and {}",
            self.rev,
            self.slug,
            self.file,
            if self.interrupted { "was interrupted" } else { "failed" }
        )?;
        for left in &self.left {
            write!(f, "\n  left: {left}")?;
        }
        if self.finished {
            write!(
                f,
                "\n= help: every statement took effect: record that the {direction} is done with `stamp {}`",
                rows_text(&self.done)
            )?;
        } else {
            write!(
                f,
                "\n= help: to run it again from its first statement, clear the mark with `stamp {}` (where the database \
                 stands), then {direction} again: an index an interrupted `CREATE INDEX CONCURRENTLY` left INVALID is \
                 dropped before the build is retried, but undo by hand first what else it left that cannot run twice; \
                 if you completed it by hand, `stamp {}`",
                rows_text(&self.retry),
                rows_text(&self.done)
            )?;
        }
        write!(f, "; runs are refused until then")
    }
}

/// A migration below the database's revision with no record of being applied.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Version rows as messages name them: `base` when there are none.
pub(crate) fn rows_text(rows: &[String]) -> String {
    if rows.is_empty() { "base".to_owned() } else { rows.join(" ") }
}

/// Said when the runner's connection closed under it.
const CONNECTION_LOST: &str = "\n= note: the connection to the server was lost (network, server restart, or the server ended the session), \
     and the migration lock with it; a step in flight committed entirely or not at all\n= help: run again: the runner reads where the database stands";

/// An applied migration whose SQL changed.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of migration {} ({}, {}) failed", self.direction, self.rev, self.slug, self.file)?;
        if let Some((index, count)) = self.statement_index {
            write!(f, " at statement {} of {count}", index + 1)?;
        }
        if let Some(op) = &self.op {
            write!(f, ", from {op}")?;
        }
        writeln!(f)?;
        if let Some(statement) = &self.statement {
            writeln!(f, "  statement: {}", statement.replace('\n', "\n             "))?;
        }
        write!(f, "  error: {}", self.message)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        for (label, value) in [("detail", &self.detail), ("hint", &self.hint)] {
            if let Some(value) = value {
                write!(f, "\n  {label}: {value}")?;
            }
        }
        if let Some(position) = self.position {
            write!(f, "\n  position: character {position} of the statement")?;
        }
        if self.after_statements {
            let how = match self.cause {
                Cause::ConnectionLost | Cause::Shutdown => {
                    "the connection to the server was lost while its end was being recorded, which committed or not"
                }
                _ => "only the record of its end failed",
            };
            return write!(
                f,
                "\n= note: every statement ran (outside a transaction); {how}\n\
                 = help: run again: the next run goes on from there, or refuses the migration as unfinished and says how \
                 to record it"
            );
        }
        let state = match (self.transactional, self.cause) {
            (true, Cause::ConnectionLost) => {
                "the connection was lost during the migration's transaction: it committed entirely or not at all, \
                 and the version rows say which"
            }
            (true, _) => "the migration was rolled back: the database is as it was before it",
            (false, _) => "it ran outside a transaction: the statements before this one stay applied",
        };
        write!(f, "\n= note: {state}")?;
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
            Cause::Shutdown => format!("the server is shutting down or restarting, or an administrator ended the session: {retry} once it is back"),
            Cause::LockTimeout => format!(
                "another session held a lock the migration needs for longer than lock_timeout: {retry} when traffic is lower, \
                 or raise the migration's lock timeout (`op.lock_timeout(…)`, or `Migrator::lock_timeout` for the run)"
            ),
            Cause::StatementTimeout => "the statement ran longer than statement_timeout or was cancelled: raise the migration's \
                 `op.statement_timeout(…)`, or do the work in smaller batches"
                .to_owned(),
            Cause::Concurrency => format!("a concurrent transaction conflicted with the migration: {retry}"),
            Cause::ReadOnly => "the server accepts no writes (a standby, or default_transaction_read_only): run against the primary".to_owned(),
            Cause::Resources => format!("the server ran out of disk, memory or connections: free them, then {retry}"),
            Cause::NeedsNoTransaction => "this statement cannot run inside a transaction: mark the migration `transactional = false` \
                 in its #[migration] attribute"
                .to_owned(),
            Cause::Statement if self.transactional => "fix the migration (or the data it trips on) and run again".to_owned(),
            Cause::Statement => "finish or undo the change by hand, then `stamp` where the schema stands".to_owned(),
        };
        let help = if self.transactional || matches!(self.cause, Cause::Statement | Cause::AlreadyExists) {
            help
        } else {
            format!(
                "{help}; the statements before this one stay applied: clear the mark with `stamp` of the database's revision before running again"
            )
        };
        write!(f, "\n= help: {help}")
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
        let text = failure.to_string();
        assert!(text.starts_with(
            "upgrade of migration 3f2a9c1b7d4e (add_lead_scores_table, migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs) failed at statement 1 of 1, from create_table(\"lead_scores\")"
        ));
        assert!(text.contains("error: relation \"lead_scores\" already exists (42P07)"), "{text}");
        assert!(text.contains("the database is as it was before it"), "{text}");
        assert!(text.contains("`stamp 3f2a9c1b7d4e` instead of applying it"), "{text}");
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

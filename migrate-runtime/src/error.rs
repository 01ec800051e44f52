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
        /// The connection string, password hidden.
        target: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// A query of the runner itself failed.
    #[error("{context}: {}", describe(.source))]
    Database {
        /// What the runner was doing.
        context: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// Another runner held the lock for longer than the wait allowed.
    #[error(
        "another migrator has held the migration lock on {table} for {waited:?}\n= help: wait for it to finish; if none runs, a stuck session holds it: \
         find it with `SELECT pid, state, query FROM pg_stat_activity WHERE pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')`"
    )]
    LockTimeout {
        /// How long the runner waited.
        waited: Duration,
        /// The version table the lock guards.
        table: String,
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
         if the change alters nothing the database holds (a comment, formatting), accept it with `accept_checksums`",
        if .0.len() == 1 { "" } else { "s" },
        if .0.len() == 1 { "it ran" } else { "they ran" },
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    ChecksumMismatch(Vec<Mismatch>),
    /// A migration outside a transaction was interrupted or failed, leaving the schema
    /// half-changed.
    #[error(
        "migration {rev} ({slug}, {file}) ran outside a transaction and {}: the schema may be half-changed\n\
         = help: look at the database and finish or undo the change by hand, then record where it stands: \
         `stamp {rev}` if the migration is complete, `stamp` of its parent if not; runs are refused until then",
        if *.interrupted { "was interrupted" } else { "failed" }
    )]
    Dirty {
        /// The revision.
        rev: String,
        /// Its slug.
        slug: String,
        /// Its file.
        file: String,
        /// Whether it was interrupted (no end recorded) rather than failed.
        interrupted: bool,
    },
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
    /// A migration failed; the database is as it was before it (or, outside a transaction, as
    /// the error says).
    #[error("{0}")]
    MigrationFailed(Box<Failure>),
}

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
            &self.recorded[..self.recorded.len().min(12)],
            &self.compiled[..self.compiled.len().min(12)]
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
        let state = if self.transactional {
            "the migration was rolled back: the database is as it was before it"
        } else {
            "it ran outside a transaction: the statements before this one stay applied"
        };
        write!(f, "\n= note: {state}")?;
        if self.code.as_deref().is_some_and(|c| ALREADY_EXISTS.contains(&c)) {
            write!(
                f,
                "\n= help: the object already exists: if this database was built outside migrate, record that it \
                 already has this migration with `stamp {}` instead of applying it",
                self.rev
            )?;
        } else if self.transactional {
            write!(f, "\n= help: fix the migration (or the data it trips on) and run again")?;
        } else {
            write!(f, "\n= help: finish or undo the change by hand, then `stamp` where the schema stands")?;
        }
        Ok(())
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

/// A connection string with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    // URL form: postgres://user:password@host/db
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            return format!("{}{}:***{}", &url[..scheme_end + 3], &rest[..colon], &rest[at..]);
        }
        return url.to_owned();
    }
    // key=value form: host=… password=… dbname=…
    url.split_whitespace()
        .map(|pair| if pair.starts_with("password=") { "password=***" } else { pair })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let cases = [
            ("postgres://app:hunter2@db:5432/crm", "postgres://app:***@db:5432/crm"),
            ("postgresql://app:p%40ss@db/crm?sslmode=disable", "postgresql://app:***@db/crm?sslmode=disable"),
            ("postgres://app@db/crm", "postgres://app@db/crm"),
            ("host=db user=app password=hunter2 dbname=crm", "host=db user=app password=*** dbname=crm"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown);
        }
    }

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
        };
        let text = failure.to_string();
        assert!(text.starts_with(
            "upgrade of migration 3f2a9c1b7d4e (add_lead_scores_table, migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs) failed at statement 1 of 1, from create_table(\"lead_scores\")"
        ));
        assert!(text.contains("error: relation \"lead_scores\" already exists (42P07)"), "{text}");
        assert!(text.contains("the database is as it was before it"), "{text}");
        assert!(text.contains("`stamp 3f2a9c1b7d4e` instead of applying it"), "{text}");
    }
}

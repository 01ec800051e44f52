//! What failed, found from what the server already said: the number of statements it
//! completed before the error, and the error's position. A failing migration is never run
//! a second time to find out.

use migrate_core::script::{Part, Piece};
use migrate_core::version::{CONFLICT, Tables};
use postgres::error::ErrorPosition;

use crate::error::{Cause, Error, Failure};
use crate::plan::Planned;

/// The error of a piece of a run of `steps` that stopped at its `completed`-th statement.
pub(crate) fn diagnose(
    tables: &Tables,
    piece: &Piece,
    completed: usize,
    steps: &[Planned],
    error: tokio_postgres::Error,
) -> Error {
    let batch = &piece.batch;
    // An error at the last statement, COMMIT, comes from a deferred constraint or trigger:
    // in one transaction for the whole run, of any step; it is put on the last one.
    let at_commit = completed + 1 == batch.ordinals.len();
    let step =
        piece.step.or_else(|| (at_commit && piece.part == Part::Step).then(|| steps.len().saturating_sub(1)));
    // The server's position, when it gives one, is in the whole batch and names the
    // statement exactly, even for a syntax error, which stops the batch before its first
    // statement runs; otherwise the statements it completed count to the failing one.
    let position = match error.as_db_error().and_then(|d| d.position()) {
        Some(ErrorPosition::Original(p)) => usize::try_from(*p).ok(),
        _ => None,
    };
    let located = position.and_then(|p| batch.statement_at(p));
    let numbered = match located {
        Some((step, index, _)) => Some((step, Some(index))),
        None => batch.statement_numbered(completed),
    };
    let Some(number) = numbered.map(|(n, _)| n).or(step) else {
        let context = if piece.part == Part::Setup {
            "cannot create the version and history tables (when another runner with the lock off creates them at the \
             same moment, run again)"
        } else {
            "cannot prepare the run"
        };
        return Error::Database { context, source: error };
    };
    let Some(planned) = steps.get(number) else {
        return Error::Database { context: "cannot run a migration", source: error };
    };
    if let Some(detail) = conflict(tables, &error) {
        let rev = planned.migration.rev;
        let left = if piece.part == Part::End {
            format!(
                "the statements of {rev} ran outside a transaction and stay applied, but its end was not recorded: \
                 the next run refuses it and says how to record it"
            )
        } else {
            format!("nothing of {rev} was committed by this run")
        };
        return Error::Conflict {
            rev: rev.to_owned(),
            slug: planned.migration.slug.to_owned(),
            detail,
            left,
        };
    }
    let mut failure = failure(planned, &error);
    failure.after_statements = matches!(piece.part, Part::Reset | Part::End);
    match numbered.and_then(|(_, index)| index) {
        Some(index) => {
            if let Some(statement) = planned.statements.get(index) {
                failure.statement_index = Some((index, planned.statements.len()));
                failure.op = Some(statement.op.clone());
                failure.statement = Some(statement.sql.clone());
            }
            failure.position =
                located.filter(|&(s, i, _)| s == number && i == index).map(|(_, _, offset)| offset);
        }
        None if failure.after_statements => {
            failure.op = Some("the record of its end (its version rows and history row)".to_owned());
        }
        None if at_commit => failure.op = Some("the commit (a deferred constraint or trigger)".to_owned()),
        None => {
            failure.op = Some("the runner's own statements (the version table's lock and rows)".to_owned());
        }
    }
    Error::MigrationFailed(Box::new(failure))
}

/// The detail of a step refused by its bookkeeping, when `error` is one.
fn conflict(tables: &Tables, error: &tokio_postgres::Error) -> Option<String> {
    let db = error.as_db_error()?;
    if db.code().code() == "22P02" && db.message().contains(CONFLICT) {
        let start = db.message().find(CONFLICT)? + CONFLICT.len();
        let detail = db.message()[start..].trim_start_matches(':').trim().trim_end_matches('"');
        return Some(detail.to_owned());
    }
    let version_key = format!("{}_pkc", tables.version);
    (db.code().code() == "23505" && db.constraint() == Some(version_key.as_str()))
        .then(|| format!("a version row it inserts already exists ({})", db.detail().unwrap_or_default()))
}

/// The failure of `planned`, as the server reported it.
pub(crate) fn failure(planned: &Planned, error: &tokio_postgres::Error) -> Failure {
    let db = error.as_db_error();
    let code = db.map(|d| d.code().code().to_owned());
    Failure {
        rev: planned.migration.rev.to_owned(),
        slug: planned.migration.slug.to_owned(),
        file: planned.migration.file.to_owned(),
        direction: planned.direction.as_str(),
        transactional: planned.transactional,
        statement_index: None,
        op: None,
        statement: None,
        message: db.map_or_else(|| crate::error::describe(error), |d| d.message().to_owned()),
        cause: Cause::of(code.as_deref(), error.is_closed()),
        code,
        detail: db.and_then(|d| d.detail()).map(str::to_owned),
        hint: db.and_then(|d| d.hint()).map(str::to_owned),
        position: None,
        after_statements: false,
    }
}

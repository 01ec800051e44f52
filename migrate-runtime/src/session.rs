//! The one connection a run works on: its round trips, how many statements of a batch the
//! server completed before an error, and the migration lock, held by this same session.
//!
//! Why no interleaving of runners applies a step twice:
//!
//! 1. The lock is a session-level advisory lock taken on the connection that runs the
//!    migrations. PostgreSQL releases it only when that backend ends (or when a migration
//!    itself runs `pg_advisory_unlock_all()` or `DISCARD ALL`, which no migration should),
//!    and a backend ends only after the transaction it runs has committed or rolled back: a
//!    runner that dies mid-step (killed, its network cut) cannot let a second runner in while
//!    its step may still commit. The server notices a dead client within a second where it can
//!    (`client_connection_check_interval`, PostgreSQL 14 and later) and by TCP keepalives
//!    otherwise.
//! 2. A session that loses its connection loses its lock with it, and everything it would
//!    send next fails on the closed connection: a runner never continues unlocked.
//! 3. Even without the lock (`Migrator::lock(false)`), every transaction
//!    that changes version rows locks the version table first and changes them with a
//!    statement that checks they are exactly the rows the step was planned from, aborting the
//!    step's transaction otherwise (`Tables::prepare_sql`). Two runners that planned the same
//!    step from the same rows serialize on the table lock, and the second finds the rows
//!    changed and rolls back, its statements with it. A step outside a transaction first
//!    commits a claim checked the same way, and a claim is refused while another claim is
//!    the newest history row. Without the lock, a runner cannot tell a step outside a
//!    transaction that another runner is running from one that was interrupted: it refuses
//!    both as unfinished, and following that refusal's way out while the other runner still
//!    runs would run the step twice. Keep the lock on wherever a session can hold it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use migrate_core::sql::join_statements;
use migrate_core::version::Tables;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::connect;
use crate::error::Error;

/// The rows of one statement: each row's values as text.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// What the server answered to a batch.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The rows of each statement it completed, in order.
    pub(crate) rows: Vec<Rows>,
    /// The error that stopped the batch: the statement numbered `rows.len()` raised it.
    pub(crate) error: Option<tokio_postgres::Error>,
}

impl Outcome {
    /// The first value of the first row of the `statement`-th statement.
    pub(crate) fn value(&self, statement: usize) -> Option<&str> {
        self.rows.get(statement)?.first()?.first()?.as_deref()
    }

    /// The number of statements the server completed.
    pub(crate) fn completed(&self) -> usize {
        self.rows.len()
    }

    /// The error, or the outcome.
    pub(crate) fn ok(self) -> Result<Outcome, tokio_postgres::Error> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }
}

/// A connection of the runner, counting its round trips.
pub(crate) struct Session {
    runtime: OwnRuntime,
    client: Client,
    /// The round trips made, for the report.
    pub(crate) trips: usize,
    /// Set (to a signal's number) when the run is to stop: the statement running is
    /// cancelled.
    interrupt: Option<Arc<AtomicUsize>>,
}

impl Session {
    /// Connects to `url`; `interrupt`, once set, cancels the statement running.
    pub(crate) fn open(url: &str, interrupt: Option<Arc<AtomicUsize>>) -> Result<Session, Error> {
        let database = connect::Database::parse(url)?;
        let runtime = OwnRuntime(Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Runtime(format!("cannot start the runner's I/O: {e}")))?,
        ));
        let client = block(&runtime, database.connect())?;
        Ok(Session { runtime, client, trips: 0, interrupt })
    }

    /// The signal that asked the run to stop, if one did.
    pub(crate) fn interrupted(&self) -> Option<usize> {
        self.interrupt.as_ref().map(|flag| flag.load(Ordering::SeqCst)).filter(|&signal| signal != 0)
    }

    /// Sends `sql` (one or more statements) as one simple query and reads the answer to
    /// the end, keeping what the server completed before an error.
    pub(crate) fn send(&mut self, sql: &str) -> Outcome {
        self.trips += 1;
        let client = &self.client;
        let interrupt = self.interrupt.clone();
        let answer = async move {
            let mut rows: Vec<Rows> = Vec::new();
            let mut current: Rows = Vec::new();
            let stream = match client.simple_query_raw(sql).await {
                Ok(stream) => stream,
                Err(error) => return Outcome { rows, error: Some(error) },
            };
            futures_util::pin_mut!(stream);
            while let Some(message) = stream.next().await {
                match message {
                    Ok(SimpleQueryMessage::Row(row)) => {
                        current.push((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect());
                    }
                    Ok(SimpleQueryMessage::CommandComplete(_)) => rows.push(std::mem::take(&mut current)),
                    Ok(_) => {}
                    Err(error) => return Outcome { rows, error: Some(error) },
                }
            }
            Outcome { rows, error: None }
        };
        let Some(interrupt) = interrupt else {
            return block(&self.runtime, answer);
        };
        // Watched every 50 ms: once interrupted, the server is asked to cancel the statement
        // (its transaction then rolls back), and the answer is awaited as usual.
        let cancel = self.client.cancel_token();
        block(&self.runtime, async move {
            let mut answer = std::pin::pin!(answer);
            let mut cancelled = false;
            loop {
                let tick = std::pin::pin!(tokio::time::sleep(Duration::from_millis(50)));
                match select(answer.as_mut(), tick).await {
                    Either::Left((outcome, _)) => return outcome,
                    Either::Right(_) if !cancelled && interrupt.load(Ordering::SeqCst) != 0 => {
                        cancelled = true;
                        let _ = cancel.cancel_query(NoTls).await;
                    }
                    Either::Right(_) => {}
                }
            }
        })
    }

    /// [`Session::send`] without cancelling on an interrupt: for the few statements that
    /// record what already happened, which an interrupt must not leave unrecorded.
    pub(crate) fn send_whole(&mut self, sql: &str) -> Outcome {
        let interrupt = self.interrupt.take();
        let outcome = self.send(sql);
        self.interrupt = interrupt;
        outcome
    }

    /// Whether the connection is known to be closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Waits for the migration lock, polling, for up to `wait`; tells `note` who holds it
    /// every few seconds. The lock is held by this session until it ends.
    pub(crate) fn lock(&mut self, tables: &Tables, wait: Duration, note: &dyn Fn(&str)) -> Result<(), Error> {
        let poll = join_statements(&[tables.try_lock_sql(), tables.lock_holder_sql()]);
        let start = Instant::now();
        let mut told = start;
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(signal) = self.interrupted() {
                let left = "it was waiting for the migration lock: nothing ran".to_owned();
                return Err(Error::Interrupted { signal, rev: None, left });
            }
            let outcome = self.send(&poll).ok().map_err(database("cannot take the migration lock"))?;
            if outcome.value(0) == Some("t") {
                return Ok(());
            }
            if start.elapsed() >= wait {
                return Err(Error::LockTimeout {
                    waited: start.elapsed(),
                    table: tables.version_table(),
                    holder: holder(&outcome.rows.get(1).cloned().unwrap_or_default()),
                });
            }
            if told.elapsed() >= Duration::from_secs(5) {
                told = Instant::now();
                let holder = holder(&outcome.rows.get(1).cloned().unwrap_or_default());
                note(&format!(
                    "waiting for the migration lock on {} ({}s so far), held by {}",
                    tables.version_table(),
                    start.elapsed().as_secs(),
                    holder.as_deref().unwrap_or("a session that just ended")
                ));
            }
            std::thread::sleep(pause.min(wait.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }
}

/// Runs `future` to its end on the session's own runtime. A thread inside another tokio
/// runtime (a service's `#[tokio::main]`) cannot block on a second one, so there the future
/// runs on a thread of its own while this one waits: the synchronous API works everywhere.
fn block<F>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(|scope| match scope.spawn(|| runtime.block_on(future)).join() {
        Ok(output) => output,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// The session's runtime, shut down without waiting when dropped: dropping a runtime in the
/// usual way blocks, which a thread inside another runtime may not do.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for OwnRuntime {
    type Target = tokio::runtime::Runtime;

    #[allow(clippy::expect_used)]
    fn deref(&self) -> &tokio::runtime::Runtime {
        // Set when made, taken only by `drop`.
        self.0.as_ref().expect("the runtime lives as long as its session")
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

fn holder(rows: &Rows) -> Option<String> {
    let row = rows.first()?;
    let value = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let from = if value(3).is_empty() { String::new() } else { format!(" from {}", value(3)) };
    let app = if value(2).is_empty() { String::new() } else { format!(" ({})", value(2)) };
    Some(format!("pid {}{app}{from}, connected since {}", value(0), value(1)))
}

/// Maps a driver error of the runner's own queries.
pub(crate) fn database(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |source| Error::Database { context, source }
}

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
use migrate_core::script::restore_settings_sql;
use migrate_core::sql::{join_statements, quote_literal};
use migrate_core::version::Tables;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::connect::Database;
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

/// A database a run connects to: a connection string (`&str`, `String`), a [`Database`], or
/// a `tokio_postgres::Config` (its TLS from its `ssl_mode`, as [`Database::new`] reads it).
pub trait IntoDatabase {
    /// The database, or why the connection string cannot be read.
    fn into_database(self) -> Result<Database, Error>;
}

impl IntoDatabase for &str {
    fn into_database(self) -> Result<Database, Error> {
        Database::parse(self)
    }
}

impl IntoDatabase for &String {
    fn into_database(self) -> Result<Database, Error> {
        Database::parse(self)
    }
}

impl IntoDatabase for String {
    fn into_database(self) -> Result<Database, Error> {
        Database::parse(&self)
    }
}

impl IntoDatabase for Database {
    fn into_database(self) -> Result<Database, Error> {
        Ok(self)
    }
}

impl IntoDatabase for &Database {
    fn into_database(self) -> Result<Database, Error> {
        Ok(self.clone())
    }
}

impl IntoDatabase for tokio_postgres::Config {
    fn into_database(self) -> Result<Database, Error> {
        Ok(Database::new(self))
    }
}

/// Where an asynchronous run works: any [`IntoDatabase`], which it connects to (and
/// disconnects from), or a connection of yours, `&tokio_postgres::Client` (from a pool:
/// `&**deadpool_object`, `&*bb8_connection`), which it gives back as it was lent.
///
/// On a connection of yours, a run first checks that it can serve: it refuses one inside a
/// transaction (the run's statements would join it) or serving another run, or left by a run
/// that did not finish ([`Error::LentConnection`], nothing changed). It resets the settings
/// that would change what migrations do (`search_path`, `lock_timeout`, `statement_timeout`:
/// they run as on a connection of their own), holds the migration lock in that session while
/// it works, and when it ends (done or failed) releases the lock, drops the statements it
/// prepared and puts back every setting it changed. When it cannot, or when a cancel request
/// it sent (`interrupt_on`) may still stop a later statement, it says so
/// ([`Error::NotGivenBack`]): drop the connection. So the connection must be:
/// - a real session, used by nothing else while the run works: not a connection of a pooler in
///   transaction or statement mode (PgBouncer's), where the lock and the prepared statements
///   would land on other sessions;
/// - dropped, not given back to its pool, when the run's future is cancelled before it ends:
///   the lock and prepared statements of an unfinished run stay in the session (a later run
///   on it refuses it).
///
/// A migration's own session-level statements (`SET …` in raw SQL) stay on it. The caller's
/// runtime needs tokio's I/O and time drivers (`#[tokio::main]` and `#[tokio::test]` have
/// them).
pub trait IntoConnection<'a> {
    /// Where the run works, or why the connection string cannot be read.
    #[doc(hidden)]
    fn into_connection(self) -> Result<Conn<'a>, Error>;
}

impl<'a, T: IntoDatabase> IntoConnection<'a> for T {
    fn into_connection(self) -> Result<Conn<'a>, Error> {
        Ok(Conn::Open(self.into_database()?))
    }
}

impl<'a> IntoConnection<'a> for &'a Client {
    fn into_connection(self) -> Result<Conn<'a>, Error> {
        Ok(Conn::Borrowed(self))
    }
}

/// Where a run works: a database it connects to, or a connection the caller lends it.
#[doc(hidden)]
#[allow(clippy::large_enum_variant, reason = "one per run, moved once")]
pub enum Conn<'a> {
    /// A connection of the run's own, closed when it ends.
    Open(Database),
    /// The caller's connection: what the run sets on it is put back when it ends.
    Borrowed(&'a Client),
}

/// The client of a session.
enum Handle<'a> {
    Own(Client),
    Borrowed(&'a Client),
}

/// A connection of the runner, counting its round trips.
pub(crate) struct Session<'a> {
    client: Handle<'a>,
    /// How the session was reached, to send a cancel request the same way (a borrowed
    /// connection's is unknown: its cancel request goes without TLS).
    database: Option<Database>,
    /// The round trips made, for the report.
    pub(crate) trips: usize,
    /// Set (to a signal's number) when the run is to stop: the statement running is
    /// cancelled.
    interrupt: Option<Arc<AtomicUsize>>,
    /// Whether this session took the migration lock.
    pub(crate) held: bool,
    /// How many cancel requests were sent that no statement is known to have met: each may
    /// still stop a later statement (the server acts on one when it gets it, on whatever
    /// statement then runs, and drops one that reaches an idle session). Several can be in
    /// flight: each statement sent after an interrupt asks for its own.
    cancel_sent: AtomicUsize,
    /// On a borrowed connection, the settings the run may change, as they were.
    pub(crate) saved: Option<Vec<Option<String>>>,
    /// The server process of this session (`pg_backend_pid()`), read by the first round trip.
    pub(crate) pid: Option<i32>,
    /// A second session, opened when a statement of the run waits long enough that it may
    /// time out on a lock, to see who holds that lock; kept for the rest of the run.
    watcher: Option<Client>,
    /// How many second sessions the run opened.
    pub(crate) watchers: usize,
    /// The lease the migration lock is held as, instead of an advisory lock.
    pub(crate) lease: Option<Lease>,
    /// Whether this session took the lease.
    pub(crate) lease_held: bool,
    /// The server's engine, read by the run's first query.
    pub(crate) engine: crate::engine::Engine,
    /// Whether the lease table exists (read by the first read): a runner holding the advisory
    /// lock then checks that no runner holds the lease.
    pub(crate) lease_table: bool,
}

/// The migration lock as a lease row ([`Tables::lease_try_sql`]), for servers without
/// advisory locks.
#[derive(Clone, Debug)]
pub(crate) struct Lease {
    /// The run's token, naming it in the lease's row.
    pub(crate) holder: String,
    /// How long a lease lasts without renewal.
    pub(crate) ttl: Duration,
    /// Whether a lease whose session is gone is free at once (PostgreSQL), or only when it
    /// expires (servers whose `pg_stat_activity` does not show every session).
    pub(crate) liveness: bool,
    /// Set once the lease is taken, for the heartbeat that renews it.
    pub(crate) taken: Arc<std::sync::atomic::AtomicBool>,
    /// Set by the heartbeat when the lease could not be renewed in time or was taken over:
    /// the run stops before its next step.
    pub(crate) lost: Arc<std::sync::atomic::AtomicBool>,
}

impl Lease {
    pub(crate) fn ttl_ms(&self) -> u128 {
        self.ttl.as_millis().max(1)
    }
}

impl<'a> Session<'a> {
    /// Connects (or takes the caller's connection); `interrupt`, once set, cancels the
    /// statement running. A connection of its own is driven by a task of the current tokio
    /// runtime.
    pub(crate) async fn open(
        conn: Conn<'a>,
        interrupt: Option<Arc<AtomicUsize>>,
    ) -> Result<Session<'a>, Error> {
        let (client, database) = match conn {
            Conn::Open(database) => (Handle::Own(database.connect().await?), Some(database)),
            Conn::Borrowed(client) => (Handle::Borrowed(client), None),
        };
        let mut session = Session {
            client,
            database,
            trips: 0,
            interrupt,
            held: false,
            cancel_sent: AtomicUsize::new(0),
            saved: None,
            pid: None,
            watcher: None,
            watchers: 0,
            lease: None,
            lease_held: false,
            engine: crate::engine::Engine::default(),
            lease_table: false,
        };
        if session.is_borrowed() {
            session.check_lent().await?;
        }
        Ok(session)
    }

    /// Who and where the session is connected, never the password; none on a lent connection.
    pub(crate) fn target(&self) -> Option<&str> {
        self.database.as_ref().map(Database::target)
    }

    /// The connection settings of a session of its own; none on a lent connection.
    pub(crate) fn database(&self) -> Option<&Database> {
        self.database.as_ref()
    }

    /// Refuses a lent connection that cannot serve a run: inside a transaction (the run's
    /// statements would join it, and its commit commit the caller's work), or already serving
    /// a run, or left by one that did not finish (its future dropped). Marks it as serving this
    /// run; nothing else is changed, and nothing at all when it is refused.
    async fn check_lent(&mut self) -> Result<(), Error> {
        let outcome = self.send(&lent_check_sql()).await;
        let refused = |reason: &str| Error::LentConnection { reason: reason.to_owned() };
        if let Some(error) = outcome.error {
            if error.code() == Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION) {
                return Err(refused("it is inside a transaction that failed"));
            }
            return Err(database("cannot check the lent connection")(error));
        }
        match (
            outcome.value(0),
            outcome.rows.first().and_then(|r| r.first()).and_then(|r| r.get(1)).cloned().flatten(),
        ) {
            (Some("t"), None) => Ok(()),
            (Some("t"), Some(_)) => Err(refused(
                "another run is using it, or a run on it did not finish (its future was dropped) and left the migration \
                 lock and its statements in the session",
            )),
            _ => Err(refused("it is inside a transaction")),
        }
    }

    fn client(&self) -> &Client {
        match &self.client {
            Handle::Own(client) => client,
            Handle::Borrowed(client) => client,
        }
    }

    /// Whether the connection is the caller's.
    pub(crate) fn is_borrowed(&self) -> bool {
        matches!(self.client, Handle::Borrowed(_))
    }

    /// The signal that asked the run to stop, if one did.
    pub(crate) fn interrupted(&self) -> Option<usize> {
        self.interrupt.as_ref().map(|flag| flag.load(Ordering::SeqCst)).filter(|&signal| signal != 0)
    }

    /// Sends `sql` (one or more statements) as one simple query and reads the answer to
    /// the end, keeping what the server completed before an error.
    pub(crate) async fn send(&mut self, sql: &str) -> Outcome {
        self.trips += 1;
        let client = self.client();
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
        let Some(interrupt) = &self.interrupt else {
            return answer.await;
        };
        // Watched every 50 ms: once interrupted, the server is asked to cancel the statement
        // (its transaction then rolls back), and the answer is awaited as usual.
        let mut answer = std::pin::pin!(answer);
        let mut cancelled = false;
        loop {
            let tick = std::pin::pin!(tokio::time::sleep(Duration::from_millis(50)));
            match select(answer.as_mut(), tick).await {
                Either::Left((outcome, _)) => {
                    if is_cancel(&outcome) {
                        // A request met this statement: the one sent for it, or an earlier one.
                        met(&self.cancel_sent);
                    }
                    return outcome;
                }
                Either::Right(_) if !cancelled && interrupt.load(Ordering::SeqCst) != 0 => {
                    cancelled = true;
                    self.cancel_sent.fetch_add(1, Ordering::SeqCst);
                    let token = client.cancel_token();
                    match &self.database {
                        Some(database) => database.cancel(&token).await,
                        None => {
                            let _ = token.cancel_query(tokio_postgres::NoTls).await;
                        }
                    }
                }
                Either::Right(_) => {}
            }
        }
    }

    /// [`Session::send`], watching from a second session, when the statements may wait for
    /// a lock up to `timeout`, who blocks them: with the sessions that held the lock this
    /// session last waited for, as PostgreSQL describes them (`pg_blocking_pids`). The watch
    /// starts once the batch has run half the timeout (a batch that ends sooner costs
    /// nothing) and polls until it ends; it needs a connection of the run's own (a lent one
    /// gives no way to open a second).
    pub(crate) async fn send_watched(
        &mut self,
        sql: &str,
        timeout: Option<Duration>,
    ) -> (Outcome, Vec<String>) {
        let (Some(timeout), Some(pid), Some(database)) = (timeout, self.pid, self.database.clone()) else {
            return (self.send(sql).await, Vec::new());
        };
        let mut watcher = self.watcher.take();
        let mut opened = 0;
        let mut seen = Vec::new();
        let outcome = {
            let watch = std::pin::pin!(watch(&database, pid, timeout, &mut watcher, &mut opened, &mut seen));
            let answer = std::pin::pin!(self.send(sql));
            match select(answer, watch).await {
                Either::Left((outcome, _)) => outcome,
                // The watch never ends on its own; should it, the answer is awaited alone.
                Either::Right(((), answer)) => answer.await,
            }
        };
        self.watcher = watcher;
        self.watchers += opened;
        (outcome, seen)
    }

    /// [`Session::send`] without cancelling on an interrupt: for the few statements that
    /// record what already happened, which an interrupt must not leave unrecorded, nor a
    /// cancel request sent for an earlier statement stop: when one does, they go again (they
    /// are whole transactions, rolled back when stopped, and a request stops one statement).
    pub(crate) async fn send_whole(&mut self, sql: &str) -> Outcome {
        let interrupt = self.interrupt.take();
        self.absorb_cancel().await;
        // Each request still in flight can stop one attempt, and none more: a stopped attempt
        // rolled back, so it goes again, once per request.
        let mut outcome = self.send(sql).await;
        while is_cancel(&outcome) && self.cancel_sent.load(Ordering::SeqCst) > 0 {
            met(&self.cancel_sent);
            outcome = self.send(sql).await;
        }
        self.interrupt = interrupt;
        outcome
    }

    /// Gives a cancel request this session sent, and that no statement met, a statement of
    /// no consequence to meet, should it arrive in the next half second (the server hands a
    /// cancel request to a process of its own, which a loaded machine may start late; a tenth
    /// of a second was seen to be too short).
    async fn absorb_cancel(&mut self) {
        let interrupt = self.interrupt.take();
        // One wait per request in flight, while any is: one that does not come in time counts on.
        let mut rounds = self.cancel_sent.load(Ordering::SeqCst);
        while rounds > 0 && self.cancel_sent.load(Ordering::SeqCst) > 0 {
            if is_cancel(&self.send("SELECT pg_sleep(0.5)").await) {
                met(&self.cancel_sent);
            }
            rounds -= 1;
        }
        self.interrupt = interrupt;
    }

    /// Ends a run's work on the session with `result`: a connection of its own closes (the
    /// server releases the lock with it); a borrowed one is given back as it was lent. When
    /// that fails, the error says so (with the run's own error, if it had one): the connection
    /// may still hold the lock, and must be dropped.
    pub(crate) async fn finish<T>(mut self, tables: &Tables, result: Result<T, Error>) -> Result<T, Error> {
        if !self.is_borrowed() {
            // A lease outlives the session: it is given back (a lease whose session is gone
            // is free anyway, or free when it expires).
            if self.lease_held && !self.is_closed() {
                self.interrupt = None;
                self.release_lease(tables).await;
            }
            return result;
        }
        let mut given = if self.is_closed() {
            Ok(())
        } else {
            let given = self.give_back(tables).await;
            given.map_err(|e| Error::Runtime(format!("it could not be given back as it was lent: {e}")))
        };
        if given.is_ok() && self.cancel_sent.load(Ordering::SeqCst) > 0 {
            // Neither the run's statements nor the wait met it: it may yet stop the lender's.
            given = Err(Error::Runtime(
                "a cancel request sent to stop the run reached no statement of it, and may stop the next one sent \
                 on this connection"
                    .to_owned(),
            ));
        }
        match (given, result) {
            (Ok(()), result) => result,
            (Err(error), result) => {
                Err(Error::NotGivenBack { reason: error.to_string(), run: result.err().map(Box::new) })
            }
        }
    }

    /// [`Session::finish`] of a run that failed before it began.
    pub(crate) async fn release(self, tables: &Tables, error: Error) -> Error {
        match self.finish::<()>(tables, Err(error)).await {
            Err(error) => error,
            Ok(()) => Error::Runtime("a failed run ended without its error".to_owned()),
        }
    }

    /// Rolls back what a failure left open, releases the lock, puts the settings back and
    /// drops the prepared statements (those there are: a failed setup may have prepared some).
    async fn give_back(&mut self, tables: &Tables) -> Result<(), Error> {
        self.interrupt = None;
        self.absorb_cancel().await;
        let mut statements = vec!["ROLLBACK".to_owned(), lent_mark_sql("")];
        if std::mem::take(&mut self.held) {
            statements.push(tables.unlock_sql());
        }
        if std::mem::take(&mut self.lease_held)
            && let Some(lease) = &self.lease
        {
            statements.push(tables.lease_release_sql(&lease.holder));
        }
        if let Some(restore) = self.saved.take().and_then(|values| restore_settings_sql(&values)) {
            statements.push(restore);
        }
        let names = tables.deallocate_sql().map(|d| quote_literal(d.trim_start_matches("DEALLOCATE ")));
        let prepared_at = statements.len();
        statements
            .push(format!("SELECT name FROM pg_prepared_statements WHERE name IN ({})", names.join(", ")));
        let outcome = self
            .send(&join_statements(&statements))
            .await
            .ok()
            .map_err(database("cannot give the connection back"))?;
        let prepared: Vec<String> = outcome
            .rows
            .get(prepared_at)
            .map(|rows| rows.iter().filter_map(|row| row.first().cloned().flatten()).collect())
            .unwrap_or_default();
        if !prepared.is_empty() {
            let drop: Vec<String> = prepared.iter().map(|name| format!("DEALLOCATE {name}")).collect();
            self.send(&join_statements(&drop))
                .await
                .ok()
                .map_err(database("cannot give the connection back"))?;
        }
        Ok(())
    }

    /// Whether the connection is known to be closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    /// Gives the lease back, after rolling back what a failure left open.
    async fn release_lease(&mut self, tables: &Tables) {
        if let Some(lease) = &self.lease {
            let sql = join_statements(&["ROLLBACK".to_owned(), tables.lease_release_sql(&lease.holder)]);
            let _ = self.send_whole(&sql).await;
        }
        self.lease_held = false;
    }

    /// Waits for the migration lock, polling, for up to `wait`; tells `note` who holds it
    /// every few seconds. The lock is held by this session until it ends, or, on a borrowed
    /// connection, until the run releases it; a lease ([`Session::lease`]) until the run gives
    /// it back.
    pub(crate) async fn lock(
        &mut self,
        tables: &Tables,
        wait: Duration,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), Error> {
        let start = Instant::now();
        let poll = match self.lease.clone() {
            Some(lease) => join_statements(&[
                tables.lease_try_sql(&lease.holder, lease.ttl_ms(), lease.liveness),
                tables.lease_holder_sql(),
            ]),
            None => {
                join_statements(&[tables.try_lock_sql(), tables.lock_holder_sql(), tables.lease_exists_sql()])
            }
        };
        self.wait_for(tables, &poll, self.lease.is_some(), start, wait, note).await
    }

    /// Polls `poll` (a try of the advisory lock, or of the lease with `leased`, then who holds
    /// it) until it is taken, up to `wait` after `start`. Once taken, a runner holding the other
    /// kind of lock (a deployment changing its setting) is looked for, in a round trip of its
    /// own (a lease's row is then committed, and an advisory lock is seen at once): when there
    /// is one, the lock just taken goes back and is waited for again, so runners of both kinds
    /// never run together, and of two taken at once both go back and try again.
    async fn wait_for(
        &mut self,
        tables: &Tables,
        poll: &str,
        leased: bool,
        start: Instant,
        wait: Duration,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), Error> {
        let mut told = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(signal) = self.interrupted() {
                let left = "it was waiting for the migration lock: nothing ran".to_owned();
                return Err(Error::Interrupted { signal, rev: None, left });
            }
            let outcome = self.send(poll).await;
            // Taken, even when what follows in the batch failed: the session holds it.
            let mut taken = outcome.value(0) == Some("t");
            if leased {
                self.lease_held |= taken;
                if let Some(lease) = self.lease.as_ref().filter(|_| taken) {
                    lease.taken.store(true, Ordering::SeqCst);
                }
            } else {
                self.held |= taken;
            }
            if taken && outcome.error.is_none() {
                let other = match leased {
                    true if self.engine.profile().advisory_lock => Some(tables.advisory_held_elsewhere_sql()),
                    false if outcome.value(2) == Some("t") => Some(tables.lease_live_sql()),
                    _ => None,
                };
                if let Some(other) = other {
                    let held = self.send(&other).await;
                    if held.error.is_some() || held.value(0) == Some("t") {
                        self.give_back_lock(tables, leased).await;
                        taken = false;
                    }
                }
            }
            // The lease table is made the first time it is missing, by whoever may: a role that
            // may not create it can still use it once it is there.
            if leased
                && outcome.error.as_ref().and_then(|e| e.code())
                    == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
            {
                self.create_lease_table(tables).await?;
                continue;
            }
            let outcome = outcome.ok().map_err(database("cannot take the migration lock"))?;
            if taken {
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
            // Up to half of the pause off at random: runners of both kinds that took their locks
            // together, and went back together, do not meet again.
            let pause_now = pause.mul_f64(1.0 - crate::runner::jitter() / 2.0);
            tokio::time::sleep(pause_now.min(wait.saturating_sub(start.elapsed()))).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }
}

impl Session<'_> {
    /// Gives back the lock just taken: the lease with `leased`, else the advisory lock.
    pub(crate) async fn give_back_lock(&mut self, tables: &Tables, leased: bool) {
        let sql = match (&self.lease, leased) {
            (Some(lease), true) => tables.lease_release_sql(&lease.holder),
            _ => tables.unlock_sql(),
        };
        // Still held when it could not be given back: the end of the run tries again.
        if self.send(&sql).await.error.is_none() {
            if leased {
                self.lease_held = false;
            } else {
                self.held = false;
            }
        }
    }

    /// Creates the lease table when it is missing; two runners creating it at once may see
    /// each other's (a unique violation of the catalog), which is no failure.
    async fn create_lease_table(&mut self, tables: &Tables) -> Result<(), Error> {
        let outcome = self.send(&tables.lease_create_sql()).await;
        match outcome.error {
            None => Ok(()),
            Some(error)
                if matches!(
                    error.code(),
                    Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
                        | Some(&tokio_postgres::error::SqlState::DUPLICATE_TABLE)
                ) =>
            {
                Ok(())
            }
            Some(error) => Err(database("cannot create the lock table")(error)),
        }
    }
}

/// Counts one cancel request as met.
fn met(sent: &AtomicUsize) {
    let _ = sent.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
}

/// Whether a batch was stopped by a cancel request.
fn is_cancel(outcome: &Outcome) -> bool {
    outcome.error.as_ref().and_then(|e| e.code()) == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
}

/// The session setting marking a lent connection as serving a run.
const LENT_MARK: &str = "migrate.lent_to_run";

/// Sets the mark of a lent connection.
fn lent_mark_sql(value: &str) -> String {
    format!("SELECT set_config('{LENT_MARK}', {}, false)", quote_literal(value))
}

/// One row: whether the session is outside a transaction (`now()` is the start of the
/// transaction, `statement_timestamp()` of this statement: equal only in the statement's own
/// implicit transaction), and the mark a run left, if any; when outside a transaction and
/// unmarked, it marks the session.
fn lent_check_sql() -> String {
    format!(
        "SELECT now() = statement_timestamp(), nullif(current_setting('{LENT_MARK}', true), ''), \
         CASE WHEN now() = statement_timestamp() AND coalesce(current_setting('{LENT_MARK}', true), '') = '' \
         THEN set_config('{LENT_MARK}', 'running', false) END"
    )
}

/// Runs `work`, which blocks on I/O, where it may: on this thread, or, on a thread driving a
/// tokio runtime (where blocking would stall its tasks, and where a synchronous PostgreSQL
/// client panics), on a thread of its own while this one waits.
pub(crate) fn outside_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(output) => output,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Runs `future` to its end on a runtime of its own, for the synchronous API. A thread inside
/// another tokio runtime (a service's `#[tokio::main]`) cannot block on a second one, so there
/// the future runs on a thread of its own while this one waits: the synchronous API works
/// everywhere, though inside a runtime the asynchronous one is the one to use.
pub(crate) fn block_on<F>(future: F) -> Result<F::Output, Error>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the runner's I/O: {e}")))?;
    let output = outside_runtime(|| runtime.block_on(future));
    // Dropping a runtime in the usual way blocks, which a thread inside another runtime may
    // not do; its tasks (the connection's) end with it.
    runtime.shutdown_background();
    Ok(output)
}

/// Watches, from a second session, who blocks the process `pid`, `timeout` being the longest
/// it waits for a lock: from half the timeout on, every eighth of it (10 to 250 ms), it
/// keeps in `seen` the sessions `pid` last waited for. `watcher` is the second session, opened
/// here when there is none yet (counted in `opened`). Never ends: dropped when the watched
/// batch ends.
async fn watch(
    database: &Database,
    pid: i32,
    timeout: Duration,
    watcher: &mut Option<Client>,
    opened: &mut usize,
    seen: &mut Vec<String>,
) {
    tokio::time::sleep(timeout / 2).await;
    if watcher.as_ref().is_none_or(Client::is_closed) {
        *watcher = database.connect().await.ok();
        *opened += usize::from(watcher.is_some());
    }
    let Some(client) = watcher.as_ref() else {
        return std::future::pending().await;
    };
    let every = (timeout / 8).clamp(Duration::from_millis(10), Duration::from_millis(250));
    let query = blockers_sql(pid);
    loop {
        if let Ok(messages) = client.simple_query(&query).await {
            let found: Vec<String> = messages
                .iter()
                .filter_map(|message| match message {
                    SimpleQueryMessage::Row(row) => Some(blocker(row)),
                    _ => None,
                })
                .collect();
            if !found.is_empty() {
                *seen = found;
            }
        } else if client.is_closed() {
            return std::future::pending().await;
        }
        tokio::time::sleep(every).await;
    }
}

/// How many characters of a blocking session's query an error shows.
pub(crate) const QUERY_SHOWN: usize = 200;

/// The sessions holding the locks the process `pid` waits for, a row each: pid, application,
/// state, seconds its transaction has been open, and its query (the one running, or for an
/// idle session the last one), its spaces folded and cut to [`QUERY_SHOWN`] characters, and
/// whether it was cut. A prepared transaction is pid 0, with no session. `pg_blocking_pids`
/// takes the lock manager's shared state for a moment, so it is asked only while `pid`
/// waits for a lock.
fn blockers_sql(pid: i32) -> String {
    format!(
        "SELECT b.pid::text, a.application_name, a.state, \
         round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 1)::text, \
         regexp_replace(left(a.query, {QUERY_SHOWN}), '[[:space:]]+', ' ', 'g'), (length(a.query) > {QUERY_SHOWN})::text \
         FROM pg_stat_activity w CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid) \
         LEFT JOIN pg_stat_activity a ON a.pid = b.pid \
         WHERE w.pid = {pid} AND w.wait_event_type = 'Lock'"
    )
}

/// A row of [`blockers_sql`], said in one line.
fn blocker(row: &tokio_postgres::SimpleQueryRow) -> String {
    let value = |i: usize| row.get(i).filter(|v| !v.is_empty());
    let pid = value(0).unwrap_or("?");
    if pid == "0" {
        return "a prepared transaction (pid 0: see pg_prepared_xacts)".to_owned();
    }
    let mut text = format!("pid {pid}");
    if let Some(app) = value(1) {
        text.push_str(&format!(" ({app})"));
    }
    match value(2) {
        Some(state) => text.push_str(&format!(", {state}")),
        None => text.push_str(", its state not shown (it belongs to another role)"),
    }
    if let Some(seconds) = value(3) {
        text.push_str(&format!(", its transaction open for {seconds} s"));
    }
    if let Some(query) = value(4) {
        let cut = if value(5) == Some("true") { "…" } else { "" };
        text.push_str(&format!(", query: {}{cut}", query.trim()));
    }
    text
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

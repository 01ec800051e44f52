//! The runtime's guarantees under faults, on a real server: processes killed at random
//! points (SIGKILL and SIGTERM), the lock holder killed among racing replicas, the server
//! restarted mid-run, the session closed by the server, and two runners interleaved with
//! the lock off. Each fault but the last is tried with both kinds of migration lock: the
//! advisory lock, and the lease row (`Migrator::lease_lock`), whose holder's death is seen
//! through `pg_stat_activity`; and the lease that only expires is attacked on its own.
//!
//! The chain (`chains/faults`) holds data migrations that are not idempotent (each writes
//! its revision into a ledger), a concurrent index build, an enum value and a slow step.
//! After each fault the database is brought to head the way an operator would (run again;
//! when refused, follow the printed way out), then checked: the version rows, the history and
//! the objects agree, and every data migration ran exactly once. Each test prints its counts;
//! `FAULT_TRIALS=<n>` runs more trials than CI's, `FAULT_SEED=<n>` replays a run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migrate_runtime::testkit::Cluster;
use migrate_runtime::{Chain, Error, Migrator};

mod support;
use support::database;

static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");

/// The data migrations, each writing its revision into the ledger once.
const DATA: [&str; 3] = ["fb0000000002", "fe0000000005", "ff0000000006"];
const FIRST: &str = "fa0000000001";
const HEAD: &str = "ff0000000006";

/// What the trials of one test saw.
#[derive(Debug, Default)]
struct Tally {
    trials: usize,
    /// Data migrations that ran twice.
    doubled: usize,
    /// Data migrations recorded as applied that never ran.
    lost: usize,
    /// Reruns refused (a step outside a transaction interrupted), then resolved by the way
    /// out the refusal printed.
    refused: usize,
    /// Steps rolled back because another runner changed the version rows under them.
    conflicts: usize,
}

impl Tally {
    fn print(&self, test: &str, seed: u64) {
        println!(
            "{test}: trials {}, doubled {}, lost {}, refused {}, conflicts {} (FAULT_SEED={seed})",
            self.trials, self.doubled, self.lost, self.refused, self.conflicts
        );
    }
}

/// A small deterministic generator, so a failing run can be replayed from its seed.
struct Random(u64);

impl Random {
    fn new() -> (Random, u64) {
        let seed = std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
        (Random(seed | 1), seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

fn trials(ci: usize) -> usize {
    std::env::var("FAULT_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(ci)
}

/// Which migration lock the runners hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lock {
    Advisory,
    Lease,
}

impl Lock {
    fn migrator(self) -> Migrator {
        Migrator::new(&FAULTS).lease_lock(self == Lock::Lease)
    }

    fn name(self) -> &'static str {
        match self {
            Lock::Advisory => "",
            Lock::Lease => ", lease lock",
        }
    }

    /// The application name of the session holding the lock, in database `name`.
    fn holder_sql(self, name: &str) -> String {
        match self {
            Lock::Advisory => format!(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'racer-%' AND a.datname = '{name}'"
            ),
            Lock::Lease => "SELECT application FROM alembic_version_lease WHERE application LIKE 'racer-%' \
                 AND EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = alembic_version_lease.pid)"
                .to_owned(),
        }
    }
}

fn racer(url: &str, lock: Lock) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate-racer"));
    command.args(["faults", url, "head"]).stdout(Stdio::null()).stderr(Stdio::piped());
    if lock == Lock::Lease {
        command.env("RACER_LEASE", "1");
    }
    command
}

fn stderr(child: Child) -> (bool, String) {
    let output = child.wait_with_output().expect("reaps");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The rows of `sql`, none while it fails (the lease table before a runner made it).
fn query_when_ready(url: &str, sql: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    let Ok(messages) = client.simple_query(sql) else { return Vec::new() };
    messages
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL").to_owned()),
            _ => None,
        })
        .collect()
}

fn query(url: &str, sql: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    client
        .simple_query(sql)
        .expect("queries")
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL").to_owned()),
            _ => None,
        })
        .collect()
}

/// Brings the database to head as an operator would: run again; when refused because a
/// step outside a transaction was interrupted, stamp what the refusal says (the current
/// revision to run the step again, or the step's own when every statement took effect) and
/// run again; a conflict is run again as its help says.
fn recover(url: &str, tally: &mut Tally, lock: Lock) {
    let migrator = lock.migrator();
    for _ in 0..3 {
        match migrator.upgrade(url, "head") {
            Ok(_) => return,
            Err(Error::Dirty(unfinished)) => {
                tally.refused += 1;
                let rows: Vec<&str> = unfinished.way_out().iter().map(String::as_str).collect();
                migrator.stamp(url, &rows, false).expect("stamps");
            }
            Err(Error::Conflict { .. }) => tally.conflicts += 1,
            Err(error) => panic!("the rerun neither completed nor refused with a way out: {error}"),
        }
    }
    panic!("three reruns did not reach head");
}

/// Checks that version rows, history and objects agree, and counts data migrations run
/// twice or never.
fn check(url: &str, tally: &mut Tally) {
    assert_eq!(query(url, "SELECT version_num FROM alembic_version"), [HEAD]);
    for rev in DATA {
        let count: usize = query(url, &format!("SELECT count(*) FROM ledger WHERE rev = '{rev}'"))[0]
            .parse()
            .expect("a count");
        match count {
            0 => tally.lost += 1,
            1 => {}
            _ => tally.doubled += 1,
        }
    }
    // Each migration is recorded as applied once: by its upgrade, or, for a step outside a
    // transaction whose statements all took effect before its runner died, by the stamp
    // its refusal printed.
    let recorded = query(
        url,
        "SELECT revision || ' ' || count(*) FILTER (WHERE direction = 'upgrade') || ' ' || count(*) \
         FROM migrate_history WHERE success AND direction IN ('upgrade', 'stamp') GROUP BY revision ORDER BY revision",
    );
    assert_eq!(recorded.len(), FAULTS.len(), "every migration is recorded: {recorded:?}");
    for line in &recorded {
        let counts: Vec<usize> = line.split(' ').skip(1).map(|n| n.parse().expect("a count")).collect();
        assert!(
            counts[0] <= 1 && counts[1] >= 1,
            "recorded as applied more than once, or never: {recorded:?}"
        );
    }
    assert_eq!(
        query(url, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
        ["0"],
        "no invalid index is left"
    );
    assert_eq!(query(url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_items_name'"), ["1"]);
    assert_eq!(
        query(url, "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum"),
        ["calm,tense"]
    );
    assert_eq!(
        query(url, "SELECT count(*) FROM items WHERE name LIKE 'ITEM %' AND name NOT LIKE '% ✓ ✓'"),
        ["5000"]
    );
    tally.trials += 1;
}

fn assert_clean(tally: &Tally) {
    assert_eq!((tally.doubled, tally.lost), (0, 0), "{tally:?}");
}

/// Kills a runner with `signal` at a random point of the chain, then reruns at once.
fn kill_at_random_points(signal: &str, count: usize, test: &str, lock: Lock) {
    let (mut random, seed) = Random::new();
    let mut tally = Tally::default();
    for _ in 0..count {
        let db = database();
        let mut child = racer(db.url(), lock).spawn().expect("starts");
        std::thread::sleep(Duration::from_millis(random.below(900)));
        if signal == "KILL" {
            let _ = child.kill();
        } else {
            let _ = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
        }
        let _ = child.wait();
        recover(db.url(), &mut tally, lock);
        check(db.url(), &mut tally);
    }
    tally.print(&format!("{test}{}", lock.name()), seed);
    assert_clean(&tally);
    // With the lock held by the session that runs the steps, a rerun never meets a step of
    // the killed runner still in flight: it waits for it, so no conflict is ever seen.
    assert_eq!(tally.conflicts, 0, "{tally:?}");
}

#[test]
fn kill_9_at_random_points_then_rerun_at_once() {
    kill_at_random_points("KILL", trials(30), "kill -9", Lock::Advisory);
}

#[test]
fn kill_9_at_random_points_then_rerun_at_once_with_the_lease_lock() {
    kill_at_random_points("KILL", trials(30), "kill -9", Lock::Lease);
}

#[test]
fn sigterm_at_random_points_then_rerun_at_once() {
    kill_at_random_points("TERM", trials(10), "SIGTERM", Lock::Advisory);
}

#[test]
fn sigterm_at_random_points_then_rerun_at_once_with_the_lease_lock() {
    kill_at_random_points("TERM", trials(10), "SIGTERM", Lock::Lease);
}

#[test]
fn killing_the_lock_holder_among_eight_racing_replicas() {
    killing_the_lock_holder(Lock::Advisory);
}

#[test]
fn killing_the_lock_holder_among_eight_racing_replicas_with_the_lease_lock() {
    killing_the_lock_holder(Lock::Lease);
}

fn killing_the_lock_holder(lock: Lock) {
    let (mut random, seed) = Random::new();
    let mut tally = Tally::default();
    for _ in 0..trials(3) {
        let db = database();
        let mut children: Vec<Child> =
            (0..8).map(|_| racer(db.url(), lock).spawn().expect("starts")).collect();
        let holder = lock.holder_sql(db.name());
        let start = Instant::now();
        let pid = loop {
            if let Some(name) = query_when_ready(db.url(), &holder).into_iter().next() {
                break name.trim_start_matches("racer-").parse::<u32>().expect("a pid");
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no racer took the lock");
            std::thread::sleep(Duration::from_millis(5));
        };
        std::thread::sleep(Duration::from_millis(random.below(500)));
        if let Some(child) = children.iter_mut().find(|c| c.id() == pid) {
            let _ = child.kill();
        }
        for child in children {
            let (_, text) = stderr(child);
            assert!(
                !text.contains("another runner changed the version rows"),
                "a racer met a conflict: {text}"
            );
        }
        recover(db.url(), &mut tally, lock);
        check(db.url(), &mut tally);
    }
    tally.print(&format!("lock holder killed among 8{}", lock.name()), seed);
    assert_clean(&tally);
    assert_eq!(tally.conflicts, 0, "{tally:?}");
}

#[test]
fn a_server_restart_mid_run() {
    server_restart(Lock::Advisory);
}

#[test]
fn a_server_restart_mid_run_with_the_lease_lock() {
    server_restart(Lock::Lease);
}

fn server_restart(lock: Lock) {
    let (mut random, seed) = Random::new();
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("no cluster: {e}"));
    let mut tally = Tally::default();
    for trial in 0..trials(3) {
        let name = format!("restart_{trial}");
        query(&cluster.url("postgres"), &format!("CREATE DATABASE {name}"));
        let url = cluster.url(&name);
        let child = racer(&url, lock).spawn().expect("starts");
        std::thread::sleep(Duration::from_millis(100 + random.below(500)));
        cluster.restart().unwrap_or_else(|e| panic!("cannot restart: {e}"));
        let (ok, text) = stderr(child);
        if !ok && !text.contains("interrupted") {
            // The help fits the cause: a lost connection or a shutdown, not the migration.
            assert!(
                text.contains("the server or the network dropped the connection")
                    || text.contains("the server is shutting down or restarting")
                    || text.contains("the connection to the server was lost")
                    || text.contains("cannot connect"),
                "{text}"
            );
            assert!(!text.contains("fix the migration"), "{text}");
        }
        recover(&url, &mut tally, lock);
        check(&url, &mut tally);
    }
    tally.print(&format!("server restart{}", lock.name()), seed);
    assert_clean(&tally);
}

#[test]
fn a_session_closed_by_the_server_stops_the_run_before_its_next_step() {
    session_closed(Lock::Advisory);
}

#[test]
fn a_session_closed_by_the_server_stops_the_run_before_its_next_step_with_the_lease_lock() {
    session_closed(Lock::Lease);
}

fn session_closed(lock: Lock) {
    let db = database();
    let mut tally = Tally::default();
    query(db.url(), &format!("ALTER DATABASE {} SET idle_session_timeout = '300ms'", db.name()));
    let child = racer(db.url(), lock).env("RACER_PAUSE_MS", "800").spawn().expect("starts");
    let (ok, text) = stderr(child);
    assert!(!ok, "the run went on after its session was closed");
    assert!(
        text.contains("the connection to the server was lost") || text.contains("dropped the connection"),
        "{text}"
    );
    // It stopped at its first step: nothing ran without the lock.
    assert_eq!(query(db.url(), "SELECT version_num FROM alembic_version"), [FIRST]);
    query(db.url(), &format!("ALTER DATABASE {} RESET idle_session_timeout", db.name()));
    recover(db.url(), &mut tally, lock);
    check(db.url(), &mut tally);
    tally.print(&format!("session closed by idle_session_timeout{}", lock.name()), 0);
    assert_clean(&tally);
}

#[test]
fn two_runners_interleaved_without_the_lock() {
    let mut tally = Tally::default();
    let mut raced = 0;
    for _ in 0..trials(5) {
        let db = database();
        Migrator::new(&FAULTS).upgrade(db.url(), FIRST).expect("first migration");
        let children: Vec<Child> = (0..2)
            .map(|_| racer(db.url(), Lock::Advisory).env("RACER_NO_LOCK", "1").spawn().expect("starts"))
            .collect();
        for child in children {
            let (ok, text) = stderr(child);
            if !ok {
                assert!(
                    text.contains("another runner changed the version rows")
                        || text.contains("ran outside a transaction and"),
                    "{text}"
                );
                raced += 1;
            }
        }
        recover(db.url(), &mut tally, Lock::Advisory);
        check(db.url(), &mut tally);
    }
    println!("two runners without the lock: {raced} runs refused by the version-row checks");
    tally.print("interleaved without the lock", 0);
    assert_clean(&tally);
    assert!(raced > 0, "the runners never met: the test proved nothing");
}

/// A racer over the `slow` chain holding a lease that only expires, after 1 s unless renewed.
fn expiring_racer(url: &str, chain: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate-racer"));
    command
        .args([chain, url, "head"])
        .env("RACER_LEASE", "1")
        .env("RACER_NO_LIVENESS", "1")
        .env("RACER_LEASE_TTL_MS", "1000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn a_lease_that_only_expires_is_renewed_while_its_run_lasts() {
    // The slow chain's second step sleeps 3 s, three times the lease's life: a second runner
    // started meanwhile must wait for it rather than take an expired lease.
    let db = database();
    let first = expiring_racer(db.url(), "slow").spawn().expect("starts");
    let holder = format!("racer-{}", first.id());
    let start = Instant::now();
    while query_when_ready(db.url(), "SELECT application FROM alembic_version_lease").first() != Some(&holder)
    {
        assert!(start.elapsed() < Duration::from_secs(30), "the first racer never took the lease");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = expiring_racer(db.url(), "slow").spawn().expect("starts");
    let (first, second) =
        (first.wait_with_output().expect("reaps"), second.wait_with_output().expect("reaps"));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(text(&first.stdout).lines().count(), 2, "the first racer applied the chain");
    assert_eq!(text(&second.stdout), "", "the second racer took the lease while the first ran");
    assert!(!text(&second.stderr).contains("taken over"), "{}", text(&second.stderr));
    assert_eq!(
        query(db.url(), "SELECT count(*) FROM alembic_version_lease"),
        ["0"],
        "the lease was given back"
    );
}

#[test]
fn kill_9_with_a_lease_that_only_expires_then_rerun_at_once() {
    let (mut random, seed) = Random::new();
    let mut tally = Tally::default();
    let migrator =
        Migrator::new(&FAULTS).lease_lock(true).lease_liveness(false).lease_ttl(Duration::from_secs(1));
    for _ in 0..trials(5) {
        let db = database();
        let mut child = expiring_racer(db.url(), "faults").spawn().expect("starts");
        std::thread::sleep(Duration::from_millis(random.below(900)));
        let _ = child.kill();
        let _ = child.wait();
        // The rerun waits for the dead runner's lease to expire, then brings the database to
        // its head as after any kill.
        for _ in 0..3 {
            match migrator.upgrade(db.url(), "head") {
                Ok(_) => break,
                Err(Error::Dirty(unfinished)) => {
                    tally.refused += 1;
                    let rows: Vec<&str> = unfinished.way_out().iter().map(String::as_str).collect();
                    migrator.stamp(db.url(), &rows, false).expect("stamps");
                }
                Err(error) => panic!("the rerun neither completed nor refused with a way out: {error}"),
            }
        }
        check(db.url(), &mut tally);
    }
    tally.print("kill -9, lease that only expires", seed);
    assert_clean(&tally);
}

//! Attacks on the fan-out, the backup, the read-only refusal and the lease lock, from outside,
//! on real PostgreSQL: hostile tenant names, colliding backups, connection limits, mixed lock
//! modes, leases nobody can renew, a multi-host URL, a blocked or missing pg_dump. One test
//! stays ignored: a second runner's first read can wait behind a relation lock the first
//! runner's migration holds, beyond `lock_wait` (timing-dependent, older than these features).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_runtime::testkit::{self, Cluster, ClusterSettings};
use migrate_runtime::{Chain, Error, Fleet, Migration, Migrator, Outcome, Target};

mod support;
use support::{database, execute, query, sql_migration};

macro_rules! chain {
    ($chain:ident: $(($name:ident, $rev:literal, $parents:expr, $up:literal, $down:literal)),* $(,)?) => {
        $(static $name: Migration =
            sql_migration($rev, $parents, ("attack", "fanout_attacks.rs"), true, &[$up], &[$down]);)*
        static $chain: Chain = Chain::new(&[$(&$name),*]);
    };
}

chain!(SIMPLE:
    (S1, "a14000000001", &[], "CREATE TABLE s1 (id int)", "DROP TABLE s1"),
    (S2, "a14000000002", &["a14000000001"], "CREATE TABLE s2 (id int)", "DROP TABLE s2"),
);

// Each application recorded in public.applied (which the test creates), slowly.
chain!(COUNTED:
    (C1, "a14000000011", &[],
     "CREATE TABLE c1 (id int); INSERT INTO public.applied VALUES (current_schema(), 'c1'); SELECT pg_sleep(0.3)",
     "DROP TABLE c1"),
    (C2, "a14000000012", &["a14000000011"],
     "CREATE TABLE c2 (id int); INSERT INTO public.applied VALUES (current_schema(), 'c2'); SELECT pg_sleep(0.3)",
     "DROP TABLE c2"),
);

chain!(SLOW:
    (W1, "a14000000021", &[], "SELECT pg_sleep(3); CREATE TABLE w1 (id int)", "DROP TABLE w1"),
);

chain!(SLOW2:
    (X1, "a14000000051", &[], "CREATE TABLE x1 (id int)", "DROP TABLE x1"),
    (X2, "a14000000052", &["a14000000051"], "SELECT pg_sleep(3); CREATE TABLE x2 (id int)", "DROP TABLE x2"),
);

chain!(DML:
    (D1, "a14000000031", &[], "CREATE TABLE d1 (id int)", "DROP TABLE d1"),
    (D2, "a14000000032", &["a14000000031"], "INSERT INTO d1 VALUES (1)", "DELETE FROM d1"),
);

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn tempdir() -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("fanout-attacks-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

fn bindir() -> PathBuf {
    let out = std::process::Command::new("pg_config").arg("--bindir").output().expect("pg_config");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn restore_list(file: &Path) -> String {
    let out = std::process::Command::new(bindir().join("pg_restore"))
        .arg("--list")
        .arg(file)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "pg_restore --list failed on {}", file.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits for the start of the next second, so that runs that follow fall in one.
fn next_second() {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("now").subsec_millis();
    std::thread::sleep(Duration::from_millis(u64::from(1000 - ms) + 20));
}

fn summary(report: &migrate_runtime::FleetReport) -> Vec<String> {
    report.targets.iter().map(|t| format!("{}: {}", t.target, t.outcome)).collect()
}

// ---------------------------------------------------------------------------------------
// Backups.

#[test]
fn backups_of_two_tenants_whose_names_differ_only_in_unsafe_characters_do_not_collide() {
    let db = database();
    execute(db.url(), "CREATE SCHEMA \"x y\"; CREATE SCHEMA \"x_y\"; CREATE SCHEMA \"x/y\"");
    let dir = tempdir();
    let targets: Vec<Target> =
        ["x y", "x_y", "x/y"].iter().map(|s| Target::schema(db.url(), s).expect("a target")).collect();
    next_second();
    let report =
        Fleet::new(Migrator::new(&SIMPLE).backup_to(&dir)).jobs(1).upgrade(&targets, "head").expect("runs");
    let backups: Vec<PathBuf> = report
        .targets
        .iter()
        .map(|t| match &t.outcome {
            Outcome::Done(done) => done.backup.clone().expect("a backup"),
            other => panic!("{}: {other}", t.target),
        })
        .collect();
    let files = std::fs::read_dir(&dir).expect("reads").count();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(files, 3, "three tenants backed up, files left: {files}; backups named {backups:?}");
}

#[test]
fn concurrent_backups_of_colliding_tenant_names_both_succeed() {
    let db = database();
    let names = ["p q", "p_q", "p;q", "p:q"];
    execute(db.url(), &names.iter().map(|n| format!("CREATE SCHEMA {};", q(n))).collect::<String>());
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(db.url(), s).expect("a target")).collect();
    let first = Fleet::new(Migrator::new(&SIMPLE)).upgrade(&targets, "a14000000001").expect("runs");
    assert!(first.is_success(), "{:#?}", summary(&first));
    // Something to dump, so that pg_dump takes a while.
    for n in names {
        execute(
            db.url(),
            &format!(
                "CREATE TABLE {}.filler AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 50000) g",
                q(n)
            ),
        );
    }
    let dir = tempdir();
    next_second();
    let report = Fleet::new(Migrator::new(&SIMPLE).backup_to(&dir))
        .jobs(4)
        .keep_going(true)
        .upgrade(&targets, "head")
        .expect("runs");
    let files = std::fs::read_dir(&dir).expect("reads").count();
    let _ = std::fs::remove_dir_all(&dir);
    let failed: Vec<String> = report.failed().map(|t| format!("{}: {}", t.target, t.outcome)).collect();
    assert!(failed.is_empty(), "failed: {failed:#?}");
    assert_eq!(files, 4, "four tenants backed up, files left: {files}: {:#?}", summary(&report));
}

#[test]
fn a_tenant_schema_name_over_63_bytes_is_backed_up() {
    let db = database();
    let long = "l".repeat(70);
    let short = "l".repeat(63);
    execute(db.url(), &format!("CREATE SCHEMA {}", q(&long)));
    let target = [Target::schema(db.url(), &long).expect("a target")];
    let first = Fleet::new(Migrator::new(&SIMPLE)).upgrade(&target, "a14000000001").expect("runs");
    assert!(first.is_success(), "{:#?}", summary(&first));
    assert_eq!(
        query(db.url(), &format!("SELECT count(*) FROM pg_tables WHERE schemaname = {}", lit(&short))),
        ["3"],
        "s1, the version and history tables land in the truncated schema"
    );
    let dir = tempdir();
    let report = Fleet::new(Migrator::new(&SIMPLE).backup_to(&dir)).upgrade(&target, "head").expect("runs");
    let file = match &report.targets[0].outcome {
        Outcome::Done(done) => done.backup.clone().expect("a backup"),
        other => panic!("{other}"),
    };
    let list = restore_list(&file);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(list.contains("TABLE") && list.contains(" s1 "), "the backup holds no table s1:\n{list}");
}

#[test]
fn a_backup_folder_that_is_a_file_refuses_the_run_and_leaves_nothing() {
    let db = database();
    let dir = tempdir();
    let blocked = dir.join("file");
    std::fs::write(&blocked, "x").expect("writes");
    let result = Migrator::new(&SIMPLE).backup_to(blocked.join("sub")).upgrade(db.url(), "head");
    assert!(matches!(result, Err(Error::Backup { .. })), "{result:?}");
    assert_eq!(query(db.url(), "SELECT to_regclass('s1') IS NULL"), ["t"]);
    let left: Vec<_> = std::fs::read_dir(&dir).expect("reads").map(|e| e.expect("e").file_name()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(left.len(), 1, "{left:?}");
}

// ---------------------------------------------------------------------------------------
// Tenant schemas.

#[test]
fn a_missing_tenant_schema_fails_and_creates_nothing_in_public() {
    let db = database();
    let before = query(db.url(), "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");
    let report = Fleet::new(Migrator::new(&SIMPLE))
        .upgrade(&[Target::schema(db.url(), "no_such_tenant").expect("t")], "head")
        .expect("runs");
    assert!(report.targets[0].is_failure(), "{:#?}", summary(&report));
    let after = query(db.url(), "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");
    assert_eq!(
        before,
        after,
        "{:?}",
        query(db.url(), "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")
    );
    eprintln!("missing schema: {}", report.targets[0].outcome);
}

#[test]
fn hostile_tenant_names_keep_their_objects_apart() {
    let db = database();
    // `a.b` must not touch `a` (nor a table `b` of `a`); `A` must not touch `a`.
    let names = ["a", "a.b", "A", "b\"c", "public.x", &"m".repeat(63)];
    execute(db.url(), &names.iter().map(|n| format!("CREATE SCHEMA {};", q(n))).collect::<String>());
    execute(db.url(), "CREATE TABLE public.applied (schema text, rev text)");
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(db.url(), s).expect("t")).collect();
    let report = Fleet::new(Migrator::new(&COUNTED)).jobs(6).upgrade(&targets, "head").expect("runs");
    assert!(report.is_success(), "{:#?}", summary(&report));
    let counts = query(db.url(), "SELECT schema, count(*) FROM public.applied GROUP BY 1 ORDER BY 1");
    let mut expected: Vec<String> = names.iter().map(|n| format!("{n} 2")).collect();
    expected.sort();
    let mut got = counts.clone();
    got.sort();
    assert_eq!(got, expected);
    for n in names {
        let tables = query(
            db.url(),
            &format!(
                "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = {}",
                lit(n)
            ),
        );
        assert_eq!(tables, ["alembic_version,c1,c2,migrate_history"], "{n}");
    }
    assert_eq!(
        query(
            db.url(),
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
        ),
        ["applied"]
    );
}

#[test]
fn two_fan_outs_over_the_same_tenants_at_once_apply_each_migration_once() {
    let db = database();
    let names: Vec<String> = (0..8).map(|i| format!("tn{i}")).collect();
    execute(db.url(), &names.iter().map(|n| format!("CREATE SCHEMA {n};")).collect::<String>());
    execute(db.url(), "CREATE TABLE public.applied (schema text, rev text)");
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(db.url(), s).expect("t")).collect();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope
            .spawn(|| Fleet::new(Migrator::new(&COUNTED)).jobs(4).upgrade(&targets, "head").expect("runs"));
        let b = scope
            .spawn(|| Fleet::new(Migrator::new(&COUNTED)).jobs(4).upgrade(&targets, "head").expect("runs"));
        (a.join().expect("a"), b.join().expect("b"))
    });
    assert!(a.is_success() && b.is_success(), "{:#?} {:#?}", summary(&a), summary(&b));
    assert_eq!(
        query(db.url(), "SELECT count(*), count(DISTINCT (schema, rev)) FROM public.applied"),
        ["16 16"]
    );
}

#[test]
fn one_database_listed_twice_under_two_spellings_is_migrated_once() {
    let db = database();
    let other = format!("{}?application_name=second&connect_timeout=10", db.url());
    let targets = [Target::database(db.url()).expect("t"), Target::database(&other).expect("t")];
    let report = Fleet::new(Migrator::new(&SLOW)).jobs(2).upgrade(&targets, "head").expect("runs");
    // Both ran at once (the second waited for the lock), one applied, the other found it done.
    assert!(report.is_success(), "{:#?}", summary(&report));
    let steps: Vec<usize> = report
        .targets
        .iter()
        .map(|t| match &t.outcome {
            Outcome::Done(d) => d.steps.len(),
            _ => 99,
        })
        .collect();
    assert!(steps == [1, 0] || steps == [0, 1], "{steps:?}");
    eprintln!("{:#?}", summary(&report));
}

#[test]
fn a_canary_larger_than_the_targets_runs_them_all() {
    let db = database();
    execute(db.url(), "CREATE SCHEMA k1; CREATE SCHEMA k2");
    let targets = [Target::schema(db.url(), "k1").expect("t"), Target::schema(db.url(), "k2").expect("t")];
    let report = Fleet::new(Migrator::new(&SIMPLE)).canary(10).upgrade(&targets, "head").expect("runs");
    assert!(report.is_success(), "{:#?}", summary(&report));
    let report =
        Fleet::new(Migrator::new(&SIMPLE)).canary(10).upgrade(&[], "head").expect("runs with no targets");
    assert!(report.targets.is_empty());
}

#[test]
fn an_interrupt_mid_fan_out_leaves_no_target_half_done() {
    let db = database();
    let names: Vec<String> = (0..12).map(|i| format!("it{i}")).collect();
    execute(db.url(), &names.iter().map(|n| format!("CREATE SCHEMA {n};")).collect::<String>());
    execute(db.url(), "CREATE TABLE public.applied (schema text, rev text)");
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(db.url(), s).expect("t")).collect();
    let flag = Arc::new(AtomicUsize::new(0));
    let setter = flag.clone();
    let report = Fleet::new(Migrator::new(&COUNTED).interrupt_on(flag.clone()))
        .jobs(2)
        .on_done(move |_| setter.store(2, Ordering::SeqCst))
        .upgrade(&targets, "head")
        .expect("runs");
    let mut kinds = Vec::new();
    for (t, name) in report.targets.iter().zip(&names) {
        let version = if query(db.url(), &format!("SELECT to_regclass('{name}.alembic_version') IS NULL"))
            == ["t"]
        {
            Vec::new()
        } else {
            query(
                db.url(),
                &format!(
                    "SELECT coalesce((SELECT string_agg(version_num, ',') FROM {name}.alembic_version), 'none')"
                ),
            )
        };
        let tables = query(
            db.url(),
            &format!(
                "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '{name}' AND tablename LIKE 'c_'"
            ),
        );
        let applied = query(
            db.url(),
            &format!("SELECT string_agg(rev, ',' ORDER BY rev) FROM public.applied WHERE schema = '{name}'"),
        );
        kinds.push(format!(
            "{}: {} | version {version:?} tables {tables:?} applied {applied:?}",
            t.target, t.outcome
        ));
        // The version row matches what exists.
        let expected = match version.first().map(String::as_str) {
            None | Some("none") => "NULL",
            Some("a14000000011") => "c1",
            Some("a14000000012") => "c1,c2",
            Some(other) => panic!("{other}"),
        };
        assert_eq!(tables, [expected], "{kinds:#?}");
        assert_eq!(applied, [expected], "{kinds:#?}");
    }
    assert!(report.not_run().count() >= 8, "{kinds:#?}");
    eprintln!("{kinds:#?}");
}

/// `migrator` over 30 tenant schemas with jobs 100, on a server of 20 connections at most:
/// the report, every target migrated when the job bound holds.
fn crowded(migrator: Migrator) -> migrate_runtime::FleetReport {
    let cluster =
        Cluster::start_with(&ClusterSettings::default().conf("max_connections = 20")).expect("a cluster");
    let url = cluster.url("postgres");
    let names: Vec<String> = (0..30).map(|i| format!("mc{i}")).collect();
    execute(&url, &names.iter().map(|n| format!("CREATE SCHEMA {n};")).collect::<String>());
    execute(&url, "CREATE TABLE public.applied (schema text, rev text)");
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(&url, s).expect("t")).collect();
    Fleet::new(migrator).jobs(100).keep_going(true).upgrade(&targets, "head").expect("runs")
}

#[test]
fn jobs_far_above_max_connections_stay_under_it() {
    let report = crowded(Migrator::new(&COUNTED));
    assert!(report.is_success(), "jobs {}: {:#?}", report.jobs, summary(&report));
    eprintln!("plain: jobs {}", report.jobs);
}

#[test]
fn jobs_far_above_max_connections_with_backup_and_heartbeat_lease_stay_under_it() {
    let dir = tempdir();
    let migrator = Migrator::new(&COUNTED)
        .backup_to(&dir)
        .lease_lock(true)
        .lease_liveness(false)
        .lease_ttl(Duration::from_millis(150));
    let report = crowded(migrator);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.is_success(), "jobs {}: {:#?}", report.jobs, summary(&report));
}

// ---------------------------------------------------------------------------------------
// Lease lock.

/// Runs `sql` on `url` from a thread of its own (a hook runs inside the runner's runtime,
/// where the synchronous client cannot).
fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(work).join().expect("the thread")
}

fn lease_rows(url: &str) -> Vec<String> {
    if query(url, "SELECT to_regclass('public.alembic_version_lease') IS NULL") == ["t"] {
        return Vec::new();
    }
    query(url, "SELECT name, holder FROM public.alembic_version_lease")
}

fn wait_for(mut ready: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("never ready");
}

/// A lease runner and an advisory runner on one database: does either wait for the other?
fn mixed(
    first_leased: bool,
) -> (Result<migrate_runtime::Report, Error>, Result<migrate_runtime::Report, Error>, bool) {
    let db = database();
    let url = db.url().to_owned();
    let overlap = Arc::new(AtomicBool::new(false));
    let seen = overlap.clone();
    let hook_url = url.clone();
    let first = Migrator::new(&SLOW).lease_lock(first_leased);
    let second = Migrator::new(&SLOW).lease_lock(!first_leased).lock_wait(Duration::from_secs(20)).before_changes(
        move |_| {
            // Another runner is applying the same migration now?
            let u = hook_url.clone();
            let busy = off_runtime(move || {
                !query(&u, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid() AND state = 'active'").is_empty()
            });
            seen.store(busy, Ordering::SeqCst);
            Ok(())
        },
    );
    std::thread::scope(|scope| {
        let a = scope.spawn(|| first.upgrade(url.as_str(), "head"));
        // The first is inside its migration.
        wait_for(|| {
            !query(&url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid() AND state = 'active'").is_empty()
        });
        let b = scope.spawn(|| second.upgrade(url.as_str(), "head"));
        (a.join().expect("a"), b.join().expect("b"), overlap.load(Ordering::SeqCst))
    })
}

#[test]
fn a_lease_runner_and_an_advisory_runner_exclude_each_other() {
    let (a, b, overlap) = mixed(true);
    eprintln!("lease first: {a:?}\nadvisory second: {b:?}\noverlap: {overlap}");
    assert!(!overlap, "the advisory runner started its changes while the lease runner was applying: {b:?}");
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
}

#[test]
fn an_advisory_runner_and_a_lease_runner_exclude_each_other() {
    let (a, b, overlap) = mixed(false);
    eprintln!("advisory first: {a:?}\nlease second: {b:?}\noverlap: {overlap}");
    assert!(!overlap, "the lease runner started its changes while the advisory runner was applying: {b:?}");
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
}

#[test]
fn two_lease_runners_exclude_each_other() {
    let db = database();
    let url = db.url().to_owned();
    let m = Migrator::new(&SLOW).lease_lock(true).lock_wait(Duration::from_secs(20));
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| m.upgrade(url.as_str(), "head"));
        std::thread::sleep(Duration::from_millis(300));
        let b = scope.spawn(|| m.upgrade(url.as_str(), "head"));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let steps = [a.expect("a").steps.len(), b.expect("b").steps.len()];
    assert!(steps == [1, 0] || steps == [0, 1], "{steps:?}");
    assert!(lease_rows(&url).is_empty(), "{:?}", lease_rows(&url));
}

#[test]
fn the_lease_table_dropped_mid_run() {
    let db = database();
    let url = db.url().to_owned();
    let hook_url = url.clone();
    let dropped = Migrator::new(&SIMPLE).lease_lock(true).before_changes(move |_| {
        let u = hook_url.clone();
        off_runtime(move || execute(&u, "SET lock_timeout = '3s'; DROP TABLE public.alembic_version_lease"));
        Ok(())
    });
    let result = dropped.upgrade(url.as_str(), "a14000000001");
    eprintln!("dropped mid-run: {result:?}");
    assert!(result.is_ok(), "{result:?}");
    // A later run recreates it.
    let again = Migrator::new(&SIMPLE).lease_lock(true).upgrade(url.as_str(), "head");
    assert!(again.is_ok(), "{again:?}");
    assert!(lease_rows(&url).is_empty());
}

#[test]
fn a_lease_row_of_a_dead_holder_whose_pid_is_reused_is_free() {
    let db = database();
    let url = db.url().to_owned();
    Migrator::new(&SIMPLE).lease_lock(true).upgrade(url.as_str(), "a14000000001").expect("runs");
    // A live session (not a runner) whose pid the dead holder's row names, with another start.
    let mut bystander = testkit::client(&url).expect("connects");
    let pid: i32 = bystander.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    execute(
        &url,
        &format!(
            "INSERT INTO public.alembic_version_lease (name, holder, pid, backend_start, expires_at) \
             VALUES ('public.alembic_version', 'ghost', {pid}, now() - interval '1 day', now() + interval '1 hour')"
        ),
    );
    let start = std::time::Instant::now();
    let result = Migrator::new(&SIMPLE)
        .lease_lock(true)
        .lock_wait(Duration::from_secs(3))
        .upgrade(url.as_str(), "head");
    assert!(result.is_ok(), "{result:?}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    // The same row naming the bystander's real start: alive, so the lock is not free.
    execute(
        &url,
        &format!(
            "INSERT INTO public.alembic_version_lease (name, holder, pid, usesysid, backend_start, expires_at) \
             SELECT 'public.alembic_version', 'ghost', pid, usesysid, backend_start, now() + interval '1 hour' \
             FROM pg_stat_activity WHERE pid = {pid}"
        ),
    );
    let result = Migrator::new(&SIMPLE)
        .lease_lock(true)
        .lock_wait(Duration::from_secs(1))
        .downgrade(url.as_str(), "base");
    assert!(matches!(result, Err(Error::LockTimeout { .. })), "{result:?}");
    drop(bystander);
}

/// How long a second runner (`upgrade` or `stamp`, lock_wait 500 ms) takes, and what it
/// says, while a first one, of the same lock mode, applies a 3 s migration.
fn second_runner_while_first_applies(leased: bool, stamp: bool, fresh: bool) -> (Duration, String) {
    let db = database();
    let url = db.url().to_owned();
    let chain = if fresh { &SLOW } else { &SLOW2 };
    if !fresh {
        Migrator::new(chain).lease_lock(leased).upgrade(url.as_str(), "a14000000051").expect("x1");
    }
    let m = Migrator::new(chain).lease_lock(leased);
    std::thread::scope(|scope| {
        let a = scope.spawn(|| m.upgrade(url.as_str(), "head"));
        wait_for(|| {
            !query(&url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid() AND state = 'active'").is_empty()
        });
        let second = Migrator::new(chain).lease_lock(leased).lock_wait(Duration::from_millis(500));
        let start = std::time::Instant::now();
        let said = if stamp {
            format!(
                "{:?}",
                second.stamp(url.as_str(), &[if fresh { "a14000000021" } else { "a14000000052" }], false)
            )
        } else {
            format!("{:?}", second.upgrade(url.as_str(), "head"))
        };
        let took = start.elapsed();
        a.join().expect("a").expect("applies");
        (took, said)
    })
}

fn lock_wait_honoured(leased: bool, fresh: bool) {
    let mut wrong = Vec::new();
    for stamp in [false, true] {
        let (took, said) = second_runner_while_first_applies(leased, stamp, fresh);
        eprintln!("lease {leased}, fresh {fresh}, stamp {stamp}: {took:?} {said}");
        if !(took < Duration::from_millis(2000) && said.contains("LockTimeout")) {
            wrong.push(format!("stamp {stamp}: {took:?} {said}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
#[ignore = "bug (pre-existing, timing-dependent, not specific to the new features): a second runner's first read blocks on a relation lock the first runner's migration holds, so lock_wait (500 ms) is not honoured: it waits out the whole migration"]
fn a_second_runner_honours_lock_wait() {
    lock_wait_honoured(false, false);
    lock_wait_honoured(true, false);
    lock_wait_honoured(false, true);
    lock_wait_honoured(true, true);
}

#[test]
fn a_role_without_create_on_the_schema_can_take_an_existing_lease() {
    let db = database();
    let role = format!("r_{}", db.name());
    Migrator::new(&DML).lease_lock(true).upgrade(db.url(), "a14000000031").expect("the owner migrates");
    execute(
        db.url(),
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role}; \
             REVOKE CREATE ON SCHEMA public FROM PUBLIC; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
             GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ),
    );
    let url = db.url().replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(url, db.url());
    let advisory = Migrator::new(&DML).upgrade(url.as_str(), "head");
    let advisory_ok = advisory.is_ok();
    Migrator::new(&DML).downgrade(db.url(), "a14000000031").expect("the owner reverts");
    let leased = Migrator::new(&DML).lease_lock(true).upgrade(url.as_str(), "head");
    execute(db.url(), &format!("DROP OWNED BY {role}"));
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!("DROP ROLE {role}"));
    eprintln!("advisory: {advisory:?}\nlease: {leased:?}");
    assert!(advisory_ok, "{advisory:?}");
    assert!(leased.is_ok(), "{leased:?}");
}

#[test]
fn the_lease_table_is_not_drift() {
    let db = database();
    Migrator::new(&SIMPLE).lease_lock(true).upgrade(db.url(), "head").expect("runs");
    let schema = db.schema(&Migrator::new(&SIMPLE)).expect("a schema");
    let names: Vec<String> = schema.objects().map(|(k, _)| format!("{k:?}")).collect();
    assert!(!names.iter().any(|n| n.contains("alembic_version_lease")), "{names:#?}");
}

// ---------------------------------------------------------------------------------------
// Read-only databases.

#[test]
fn read_only_by_url_options_or_role_setting_is_refused_and_readable() {
    let db = database();
    let url = format!("{}?options=-c%20default_transaction_read_only%3Don", db.url());
    let result = Migrator::new(&SIMPLE).upgrade(url.as_str(), "head");
    assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
    assert_eq!(Migrator::new(&SIMPLE).current(url.as_str()).expect("current"), Vec::<String>::new());
    let result = Migrator::new(&SIMPLE).lease_lock(true).upgrade(url.as_str(), "head");
    assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
    let result = Migrator::new(&SIMPLE).stamp(url.as_str(), &["head"], false);
    assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
    // Per role, in this database.
    execute(
        db.url(),
        &format!("ALTER ROLE postgres IN DATABASE {} SET default_transaction_read_only = on", db.name()),
    );
    let result = Migrator::new(&SIMPLE).upgrade(db.url(), "head");
    assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
    let targets = [Target::database(db.url()).expect("t")];
    let report =
        Fleet::new(Migrator::new(&SIMPLE)).skip_read_only(true).upgrade(&targets, "head").expect("runs");
    assert!(matches!(report.targets[0].outcome, Outcome::Skipped(_)), "{:#?}", summary(&report));
    // The lease table was never made.
    let mut admin = testkit::client(db.url()).expect("c");
    admin.batch_execute("SET default_transaction_read_only = off").expect("off");
    admin
        .batch_execute(&format!(
            "ALTER ROLE postgres IN DATABASE {} RESET default_transaction_read_only",
            db.name()
        ))
        .expect("reset");
    assert!(lease_rows(db.url()).is_empty());
    assert_eq!(
        query(
            db.url(),
            "SELECT to_regclass('public.alembic_version_lease') IS NULL, to_regclass('public.alembic_version') IS NULL"
        ),
        ["t t"]
    );
}

#[test]
fn a_lent_client_on_a_read_only_database_is_refused_and_given_back_usable() {
    let db = database();
    execute(db.url(), &format!("ALTER DATABASE {} SET default_transaction_read_only = on", db.name()));
    let url = db.url().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async move {
        use migrate_runtime::tokio_postgres;
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connects");
        tokio::spawn(connection);
        client.batch_execute("SET search_path = mine, public; SET application_name = 'lender'").await.expect("sets");
        for lease in [false, true] {
            let result = Migrator::new(&SIMPLE).lease_lock(lease).upgrade_async(&client, "head").await;
            assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
            let row = client
                .query_one("SELECT current_setting('search_path'), current_setting('application_name'), 1", &[])
                .await
                .expect("the connection is usable");
            assert_eq!(row.get::<_, String>(0), "mine, public");
            assert_eq!(row.get::<_, String>(1), "lender");
        }
        // A read-only transaction of the lender's own, on a writable session.
        client.batch_execute("SET default_transaction_read_only = off; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").await.expect("sets");
        let result = Migrator::new(&SIMPLE).upgrade_async(&client, "head").await;
        assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
        client.simple_query("SELECT 1").await.expect("usable");
    });
}

// ---------------------------------------------------------------------------------------
// More backups.

#[test]
fn a_backup_blocked_by_a_table_lock_is_bounded() {
    let db = database();
    Migrator::new(&SIMPLE).upgrade(db.url(), "a14000000001").expect("s1");
    let url = db.url().to_owned();
    let flag = Arc::new(AtomicUsize::new(0));
    let dir = tempdir();
    let (took, result) = std::thread::scope(|scope| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let holder_url = url.clone();
        // A session holding an ACCESS EXCLUSIVE lock on s1 for 10 s.
        let holder = scope.spawn(move || {
            let mut c = testkit::client(&holder_url).expect("c");
            let mut t = c.transaction().expect("t");
            t.batch_execute("LOCK TABLE s1 IN ACCESS EXCLUSIVE MODE").expect("locks");
            ready_tx.send(()).expect("send");
            std::thread::sleep(Duration::from_secs(10));
            t.rollback().expect("rollback");
        });
        ready_rx.recv().expect("ready");
        let setter = flag.clone();
        scope.spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            setter.store(2, Ordering::SeqCst);
        });
        let start = std::time::Instant::now();
        let result = Migrator::new(&SIMPLE)
            .backup_to(&dir)
            .lock_timeout(Duration::from_secs(1))
            .statement_timeout(Duration::from_secs(1))
            .interrupt_on(flag.clone())
            .upgrade(url.as_str(), "head");
        let took = start.elapsed();
        holder.join().expect("holder");
        (took, result)
    });
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("took {took:?}: {result:?}");
    assert!(took < Duration::from_secs(5), "the backup waited {took:?} for the table lock: {result:?}");
}

/// The inner half of [`pg_dump_missing_from_path_refuses_the_run`]: run in a child process
/// whose PATH is an empty folder (PATH is the process's, shared by the tests' threads).
#[test]
fn inner_backup_with_an_empty_path() {
    let Ok(url) = std::env::var("FANOUT_ATTACKS_URL") else { return };
    let dir = std::env::var("FANOUT_ATTACKS_DIR").expect("a dir");
    let result = Migrator::new(&SIMPLE).backup_to(&dir).upgrade(url.as_str(), "head");
    match result {
        Err(error @ Error::Backup { .. }) => println!("REFUSED: {error}"),
        other => println!("NOT REFUSED: {other:?}"),
    }
}

#[test]
fn pg_dump_missing_from_path_refuses_the_run() {
    let db = database();
    let empty = tempdir();
    let dir = tempdir();
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "inner_backup_with_an_empty_path", "--nocapture", "--test-threads=1"])
        .env("PATH", &empty)
        .env("FANOUT_ATTACKS_URL", db.url())
        .env("FANOUT_ATTACKS_DIR", &dir)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let left = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
    eprintln!("{text}");
    assert!(text.contains("REFUSED: ") && text.contains("pg_dump was found neither"), "{text}");
    assert_eq!(left, 0);
    assert_eq!(query(db.url(), "SELECT to_regclass('s1') IS NULL"), ["t"]);
}

// ---------------------------------------------------------------------------------------
// A standby promoted.

#[test]
fn a_standby_is_skipped_then_migrated_once_promoted() {
    let primary = Cluster::start().expect("a cluster");
    execute(&primary.url("postgres"), "CREATE DATABASE app");
    let standby = primary.standby().expect("a standby");
    let url = standby.url("app");
    wait_for(|| testkit::client(&url).is_ok());
    let targets = [Target::database(&url).expect("t")];
    let fleet = Fleet::new(Migrator::new(&SIMPLE).lease_lock(true)).skip_read_only(true);
    let report = fleet.upgrade(&targets, "head").expect("runs");
    assert!(matches!(report.targets[0].outcome, Outcome::Skipped(_)), "{:#?}", summary(&report));
    assert_eq!(
        Migrator::new(&SIMPLE).current(url.as_str()).expect("current works on a standby"),
        Vec::<String>::new()
    );
    execute(&url, "SELECT pg_promote(true, 30)");
    let report = fleet.upgrade(&targets, "head").expect("runs");
    assert!(matches!(report.targets[0].outcome, Outcome::Done(_)), "{:#?}", summary(&report));
    assert_eq!(query(&url, "SELECT version_num FROM alembic_version"), ["a14000000002"]);
    assert_eq!(query(&primary.url("app"), "SELECT to_regclass('s1') IS NULL"), ["t"]);
}

// ---------------------------------------------------------------------------------------
// Round two.

#[test]
fn a_tenant_schema_named_dollar_user_is_refused_and_nothing_lands_elsewhere() {
    // PostgreSQL reads `$user` in a search path as the role's schema: no search path can
    // name this schema, so the tenant is refused rather than migrated into public.
    let db = database();
    execute(db.url(), "CREATE SCHEMA \"$user\"");
    let report = Fleet::new(Migrator::new(&SIMPLE))
        .upgrade(&[Target::schema(db.url(), "$user").expect("t")], "head")
        .expect("runs");
    match &report.targets[0].outcome {
        Outcome::Failed(error @ Error::Unsupported { .. }) => {
            assert!(error.to_string().contains("$user"), "{error}")
        }
        other => panic!("a tenant named $user was not refused: {other}"),
    }
    let placed = query(
        db.url(),
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE tablename IN ('s1', 's2', 'alembic_version') ORDER BY 1",
    );
    assert!(placed.is_empty(), "{placed:?}");
}

#[test]
fn a_lease_that_only_expires_is_refused_on_a_lent_connection() {
    // Nothing can renew it while a step lasts: the run is refused, the connection given back.
    let db = database();
    let url = db.url().to_owned();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let (first, after) = runtime.block_on(async move {
        use migrate_runtime::tokio_postgres;
        let (client, connection) =
            tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connects");
        tokio::spawn(connection);
        let migrator =
            Migrator::new(&SLOW).lease_lock(true).lease_liveness(false).lease_ttl(Duration::from_millis(600));
        let first = migrator.upgrade_async(&client, "head").await;
        let after = client.simple_query("SELECT 1").await.is_ok();
        (first, after)
    });
    match first {
        Err(error @ Error::LentConnection { .. }) => assert!(error.to_string().contains("lease"), "{error}"),
        other => panic!("a lease that only expires ran on a lent connection: {other:?}"),
    }
    assert!(after, "the lent connection is usable afterwards");
    assert_eq!(query(db.url(), "SELECT to_regclass('s1') IS NULL"), ["t"], "nothing was changed");
}

#[test]
fn a_lease_row_naming_a_reused_pid_of_another_role_frees_for_a_plain_role() {
    let db = database();
    let role = format!("p_{}", db.name());
    Migrator::new(&DML).lease_lock(true).upgrade(db.url(), "a14000000031").expect("the owner migrates");
    execute(
        db.url(),
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT CREATE, USAGE ON SCHEMA public TO {role}; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
             GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ),
    );
    // A superuser's session, alive, whose pid a dead runner's row names (another start).
    let mut bystander = testkit::client(db.url()).expect("connects");
    let pid: i32 = bystander.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    execute(
        db.url(),
        &format!(
            "INSERT INTO public.alembic_version_lease (name, holder, pid, backend_start, expires_at) \
             VALUES ('public.alembic_version', 'ghost', {pid}, now() - interval '1 day', now() - interval '1 hour')"
        ),
    );
    let url = db.url().replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let result =
        Migrator::new(&DML).lease_lock(true).lock_wait(Duration::from_secs(2)).upgrade(url.as_str(), "head");
    execute(db.url(), &format!("DROP OWNED BY {role}"));
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!("DROP ROLE {role}"));
    drop(bystander);
    eprintln!("{result:?}");
    assert!(
        result.is_ok(),
        "a dead holder's lease (its pid reused by another role's session, expired an hour ago) never frees for a plain role: {result:?}"
    );
}

#[test]
fn jobs_far_above_max_connections_with_backups_only_stay_under_it() {
    let dir = tempdir();
    let report = crowded(Migrator::new(&COUNTED).backup_to(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.is_success(), "jobs {}: {:#?}", report.jobs, summary(&report));
}

#[test]
fn a_backup_is_taken_from_the_database_migrated_with_a_multi_host_url() {
    let primary = Cluster::start().expect("a cluster");
    execute(&primary.url("postgres"), "CREATE DATABASE app");
    Migrator::new(&SIMPLE).upgrade(primary.url("app").as_str(), "a14000000001").expect("s1");
    let standby = primary.standby().expect("a standby");
    wait_for(|| testkit::client(&standby.url("app")).is_ok());
    wait_for(|| query(&standby.url("app"), "SELECT to_regclass('s1') IS NOT NULL") == ["t"]);
    // The standby stops replaying: a row written now is on the primary only.
    execute(&standby.url("app"), "SELECT pg_wal_replay_pause()");
    execute(&primary.url("app"), "INSERT INTO s1 VALUES (42)");
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/app?target_session_attrs=read-write",
        standby.port(),
        primary.port()
    );
    let dir = tempdir();
    let report =
        Migrator::new(&SIMPLE).backup_to(&dir).upgrade(url.as_str(), "head").expect("migrates the primary");
    assert_eq!(query(&primary.url("app"), "SELECT to_regclass('s2') IS NOT NULL"), ["t"]);
    let file = report.backup.expect("a backup");
    // Restored, the backup should hold the row the primary had before the run.
    execute(&primary.url("postgres"), "CREATE DATABASE copy");
    let status = std::process::Command::new(bindir().join("pg_restore"))
        .arg("--dbname")
        .arg(primary.url("copy"))
        .arg("--no-owner")
        .arg(&file)
        .status()
        .expect("pg_restore");
    assert!(status.success());
    let rows = query(&primary.url("copy"), "SELECT count(*) FROM s1");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rows, ["1"], "the backup lacks the primary's row: it was taken from the standby");
}

static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn keep_note(text: &str) {
    if let Ok(mut notes) = NOTES.lock() {
        notes.push(text.to_owned());
    }
}

/// Runs SLOW with a heartbeat lease (ttl 600 ms) on `runner_url` and says, 2 s into its
/// 3 s migration, whether its lease row has expired (as `admin_url` sees it).
fn lease_expired_mid_run(
    runner_url: &str,
    admin_url: &str,
) -> (Result<migrate_runtime::Report, Error>, String) {
    std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            Migrator::new(&SLOW)
                .lease_lock(true)
                .lease_liveness(false)
                .lease_ttl(Duration::from_millis(600))
                .on_note(keep_note)
                .upgrade(runner_url, "head")
        });
        std::thread::sleep(Duration::from_millis(2000));
        let seen =
            query(admin_url, "SELECT holder, expires_at < now() FROM public.alembic_version_lease").join(";");
        (first.join().expect("first"), seen)
    })
}

#[test]
fn a_heartbeat_keeps_the_lease_alive_mid_run() {
    let db = database();
    let (first, seen) = lease_expired_mid_run(db.url(), db.url());
    assert!(first.is_ok(), "{first:?}");
    assert!(seen.ends_with(" f"), "the lease expired mid-run: {seen}");
}

#[test]
fn a_heartbeat_that_cannot_connect_does_not_let_the_lease_expire_silently() {
    let db = database();
    let role = format!("h_{}", db.name());
    execute(
        db.url(),
        &format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 1; ALTER DATABASE {} OWNER TO {role}", db.name()),
    );
    let limited = db.url().replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let (first, _) = lease_expired_mid_run(&limited, db.url());
    let _ = testkit::client(db.url())
        .expect("c")
        .batch_execute(&format!("ALTER DATABASE {} OWNER TO postgres; DROP OWNED BY {role}", db.name()));
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!("DROP ROLE {role}"));
    // No session can renew the lease: the run is refused before its first change.
    match first {
        Err(error @ Error::LeaseLost { .. }) => {
            let text = error.to_string();
            assert!(text.contains("nothing was changed") && text.contains("cannot connect"), "{text}");
        }
        other => panic!("a lease nobody can renew was taken for a run: {other:?}"),
    }
    assert_eq!(query(db.url(), "SELECT to_regclass('s1') IS NULL"), ["t"], "nothing was changed");
}

static N1: Migration = sql_migration(
    "a14000000061",
    &[],
    ("audit", "fanout_attacks.rs"),
    true,
    &["CREATE TABLE audit (who text)"],
    &["DROP TABLE audit"],
);
static N2: Migration = sql_migration(
    "a14000000062",
    &["a14000000061"],
    ("outside", "fanout_attacks.rs"),
    false,
    &["SELECT pg_sleep(2)", "INSERT INTO audit VALUES ('n2')"],
    &["DELETE FROM audit"],
);
static OUTSIDE: Chain = Chain::new(&[&N1, &N2]);

/// Held: applied once; but the advisory runner, not waiting for the lease holder, reports its
/// live step as an interrupted migration (Error::Dirty, `interrupted: true`) to retry.
#[test]
fn mixed_lock_modes_never_apply_a_non_transactional_migration_twice() {
    let db = database();
    let url = db.url().to_owned();
    Migrator::new(&OUTSIDE).upgrade(url.as_str(), "a14000000061").expect("n1");
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Migrator::new(&OUTSIDE).lease_lock(true).upgrade(url.as_str(), "head"));
        std::thread::sleep(Duration::from_millis(700));
        let b = scope.spawn(|| {
            Migrator::new(&OUTSIDE).lock_wait(Duration::from_secs(10)).upgrade(url.as_str(), "head")
        });
        (a.join().expect("a"), b.join().expect("b"))
    });
    let applied = query(&url, "SELECT count(*) FROM audit");
    eprintln!("lease: {a:?}\nadvisory: {b:?}\napplied: {applied:?}");
    assert_eq!(applied, ["1"], "lease: {a:?}\nadvisory: {b:?}");
}

#[test]
fn two_lease_runners_never_apply_a_non_transactional_migration_twice() {
    let db = database();
    let url = db.url().to_owned();
    Migrator::new(&OUTSIDE).upgrade(url.as_str(), "a14000000061").expect("n1");
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Migrator::new(&OUTSIDE).lease_lock(true).upgrade(url.as_str(), "head"));
        std::thread::sleep(Duration::from_millis(700));
        let b = scope.spawn(|| {
            Migrator::new(&OUTSIDE)
                .lease_lock(true)
                .lock_wait(Duration::from_secs(10))
                .upgrade(url.as_str(), "head")
        });
        (a.join().expect("a"), b.join().expect("b"))
    });
    let applied = query(&url, "SELECT count(*) FROM audit");
    assert_eq!(applied, ["1"], "{a:?}\n{b:?}");
    assert!(a.is_ok() && b.is_ok(), "{a:?}\n{b:?}");
}

#[test]
fn a_backup_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = database();
    let dir = tempdir();
    let report =
        Migrator::new(&SIMPLE).backup_to(dir.join("new")).upgrade(db.url(), "head").expect("migrates");
    let file = report.backup.expect("a backup");
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
    let dir_mode = std::fs::metadata(dir.join("new")).expect("meta").permissions().mode() & 0o777;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(mode & 0o077, 0, "backup mode {mode:o}, its new folder {dir_mode:o}");
}

#[test]
fn an_expired_lease_is_not_taken_while_its_holder_applies() {
    let db = database();
    let role = format!("e_{}", db.name());
    execute(
        db.url(),
        &format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 1; ALTER DATABASE {} OWNER TO {role}", db.name()),
    );
    let limited = db.url().replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let lease = |m: Migrator| m.lease_lock(true).lease_liveness(false).lease_ttl(Duration::from_millis(600));
    Migrator::new(&OUTSIDE).upgrade(limited.as_str(), "a14000000061").expect("n1");
    let url = db.url().to_owned();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| lease(Migrator::new(&OUTSIDE)).upgrade(limited.as_str(), "head"));
        std::thread::sleep(Duration::from_millis(1200));
        let b =
            lease(Migrator::new(&OUTSIDE)).lock_wait(Duration::from_secs(10)).upgrade(url.as_str(), "head");
        (a.join().expect("a"), b)
    });
    let applied = query(&url, "SELECT count(*) FROM audit");
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!(
        "ALTER DATABASE {} OWNER TO postgres; REASSIGN OWNED BY {role} TO postgres; DROP OWNED BY {role}",
        db.name()
    ));
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!("DROP ROLE {role}"));
    eprintln!("first: {a:?}\nsecond: {b:?}\napplied: {applied:?}");
    // The first cannot renew its lease, so it is refused before its step; the second applies
    // it, once, and is not told of an interrupted migration.
    assert_eq!(applied, ["1"]);
    assert!(matches!(a, Err(Error::LeaseLost { .. })), "first: {a:?}");
    assert!(b.as_ref().is_ok_and(|r| r.steps.len() == 1), "second: {b:?}");
}

#[test]
fn jobs_stay_under_the_role_connection_limit() {
    let db = database();
    let role = format!("j_{}", db.name());
    execute(
        db.url(),
        &format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 3; ALTER DATABASE {} OWNER TO {role}", db.name()),
    );
    let names: Vec<String> = (0..8).map(|i| format!("jl{i}")).collect();
    execute(
        db.url(),
        &names.iter().map(|n| format!("CREATE SCHEMA {n} AUTHORIZATION {role};")).collect::<String>(),
    );
    execute(
        db.url(),
        &format!(
            "CREATE TABLE public.applied (schema text, rev text); GRANT ALL ON public.applied TO {role}"
        ),
    );
    let limited = db.url().replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let targets: Vec<Target> = names.iter().map(|s| Target::schema(&limited, s).expect("t")).collect();
    let report =
        Fleet::new(Migrator::new(&COUNTED)).jobs(8).keep_going(true).upgrade(&targets, "head").expect("runs");
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!(
        "ALTER DATABASE {} OWNER TO postgres; REASSIGN OWNED BY {role} TO postgres; DROP OWNED BY {role}",
        db.name()
    ));
    let _ = testkit::client(db.url()).expect("c").batch_execute(&format!("DROP ROLE {role}"));
    assert!(report.is_success(), "jobs {}: {:#?}", report.jobs, summary(&report));
}

chain!(PAUSED:
    (P1, "a14000000071", &[], "CREATE TABLE p1 (id int)", "DROP TABLE p1"),
    (P2, "a14000000072", &["a14000000071"], "CREATE TABLE p2 (id int)", "DROP TABLE p2"),
);

/// A pause after each step, holding the lock, with no transaction open (so that nothing but
/// the migration lock keeps a second runner out: no read of it waits on a table).
fn pause_between_steps(_: &migrate_runtime::StepReport) {
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn every_pair_of_lock_kinds_excludes_between_steps() {
    for (first_leased, second_leased) in [(true, true), (true, false), (false, true), (false, false)] {
        let db = database();
        let url = db.url().to_owned();
        let first = Migrator::new(&PAUSED).lease_lock(first_leased).on_step(pause_between_steps);
        let second = Migrator::new(&PAUSED).lease_lock(second_leased).lock_wait(Duration::from_secs(20));
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| first.upgrade(url.as_str(), "head"));
            // The first runner is in its pause after its first step, holding its lock.
            wait_for(|| {
                query(&url, "SELECT to_regclass('public.alembic_version') IS NOT NULL") == ["t"]
                    && query(&url, "SELECT count(*) FROM public.alembic_version") == ["1"]
            });
            let b = second.upgrade(url.as_str(), "head");
            (a.join().expect("a"), b)
        });
        let kinds = format!("first leased: {first_leased}, second leased: {second_leased}");
        let a = a.unwrap_or_else(|e| panic!("{kinds}: the first runner failed: {e}"));
        let b = b.unwrap_or_else(|e| panic!("{kinds}: the second runner failed: {e}"));
        assert_eq!((a.steps.len(), b.steps.len()), (2, 0), "{kinds}: the second ran beside the first");
        assert!(lease_rows(&url).is_empty(), "{kinds}: {:?}", lease_rows(&url));
    }
}

#[test]
fn an_advisory_runner_already_waiting_still_waits_for_a_lease_taken_meanwhile() {
    // C (advisory lock) holds the lock after its first step; A (advisory) starts waiting for it
    // while no lease table exists; B (lease) starts then, makes the table and waits too. When
    // C ends, A and B both want the last step: one applies it, the other finds nothing to do.
    // Which of A and B tries first then is left to timing; the pair test above checks each
    // kind's look for the other at every try, deterministically.
    let db = database();
    let url = db.url().to_owned();
    let c = Migrator::new(&PAUSED).on_step(pause_between_steps);
    let a = Migrator::new(&PAUSED).on_step(pause_between_steps).lock_wait(Duration::from_secs(20));
    let b = Migrator::new(&PAUSED)
        .lease_lock(true)
        .on_step(pause_between_steps)
        .lock_wait(Duration::from_secs(20));
    let (c, a, b) = std::thread::scope(|scope| {
        let c = scope.spawn(|| c.upgrade(url.as_str(), "a14000000071"));
        wait_for(|| {
            query(&url, "SELECT to_regclass('public.alembic_version') IS NOT NULL") == ["t"]
                && query(&url, "SELECT count(*) FROM public.alembic_version") == ["1"]
        });
        let a = scope.spawn(|| a.upgrade(url.as_str(), "head"));
        std::thread::sleep(Duration::from_millis(300));
        assert!(lease_rows(&url).is_empty(), "no lease table yet");
        let b = scope.spawn(|| b.upgrade(url.as_str(), "head"));
        (c.join().expect("c"), a.join().expect("a"), b.join().expect("b"))
    });
    let c = c.unwrap_or_else(|e| panic!("the first runner failed: {e}"));
    let a = a.unwrap_or_else(|e| panic!("the advisory runner failed (it ran beside the lease runner?): {e}"));
    let b = b.unwrap_or_else(|e| panic!("the lease runner failed (it ran beside the advisory runner?): {e}"));
    let mut steps = [a.steps.len(), b.steps.len()];
    steps.sort_unstable();
    assert_eq!((c.steps.len(), steps), (1, [0, 1]), "the last step was applied once");
}

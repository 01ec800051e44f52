//! One chain on many targets, attacked: tenant schemas side by side in one database (each with
//! its own version table, lock and objects), databases failing in a canary stage or midway, a
//! streaming standby and read-only databases, and backups restored.
//!
//! `FANOUT_TENANTS` (default 100) and `FANOUT_DATABASES` (default 10) set the scale test's
//! size: `FANOUT_TENANTS=1000 FANOUT_DATABASES=50 cargo test -p migrate-tests --test fanout`
//! runs the full one.

use std::path::Path;
use std::process::ExitCode;

use migrate_runtime::testkit::{self, Cluster, ClusterSettings};
use migrate_runtime::{Chain, Error, Fleet, Migration, Migrator, Outcome, Target};

mod support;
use support::{database, execute, query, rows, sql_migration};

/// Twenty migrations: table `t_NN` with an index, unqualified, so that a tenant's land in its
/// schema.
macro_rules! twenty {
    ($(($name:ident, $rev:literal, $parents:expr, $up:literal, $down:literal)),* $(,)?) => {
        $(static $name: Migration =
            sql_migration($rev, $parents, ("add_table", "fanout.rs"), true, &[$up], &[$down]);)*
        static TWENTY: Chain = Chain::new(&[$(&$name),*]);
    };
}

twenty!(
    (
        M01,
        "f00000000001",
        &[],
        "CREATE TABLE t_01 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_01 (note)",
        "DROP TABLE t_01"
    ),
    (
        M02,
        "f00000000002",
        &["f00000000001"],
        "CREATE TABLE t_02 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_02 (note)",
        "DROP TABLE t_02"
    ),
    (
        M03,
        "f00000000003",
        &["f00000000002"],
        "CREATE TABLE t_03 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_03 (note)",
        "DROP TABLE t_03"
    ),
    (
        M04,
        "f00000000004",
        &["f00000000003"],
        "CREATE TABLE t_04 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_04 (note)",
        "DROP TABLE t_04"
    ),
    (
        M05,
        "f00000000005",
        &["f00000000004"],
        "CREATE TABLE t_05 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_05 (note)",
        "DROP TABLE t_05"
    ),
    (
        M06,
        "f00000000006",
        &["f00000000005"],
        "CREATE TABLE t_06 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_06 (note)",
        "DROP TABLE t_06"
    ),
    (
        M07,
        "f00000000007",
        &["f00000000006"],
        "CREATE TABLE t_07 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_07 (note)",
        "DROP TABLE t_07"
    ),
    (
        M08,
        "f00000000008",
        &["f00000000007"],
        "CREATE TABLE t_08 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_08 (note)",
        "DROP TABLE t_08"
    ),
    (
        M09,
        "f00000000009",
        &["f00000000008"],
        "CREATE TABLE t_09 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_09 (note)",
        "DROP TABLE t_09"
    ),
    (
        M10,
        "f00000000010",
        &["f00000000009"],
        "CREATE TABLE t_10 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_10 (note)",
        "DROP TABLE t_10"
    ),
    (
        M11,
        "f00000000011",
        &["f00000000010"],
        "CREATE TABLE t_11 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_11 (note)",
        "DROP TABLE t_11"
    ),
    (
        M12,
        "f00000000012",
        &["f00000000011"],
        "CREATE TABLE t_12 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_12 (note)",
        "DROP TABLE t_12"
    ),
    (
        M13,
        "f00000000013",
        &["f00000000012"],
        "CREATE TABLE t_13 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_13 (note)",
        "DROP TABLE t_13"
    ),
    (
        M14,
        "f00000000014",
        &["f00000000013"],
        "CREATE TABLE t_14 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_14 (note)",
        "DROP TABLE t_14"
    ),
    (
        M15,
        "f00000000015",
        &["f00000000014"],
        "CREATE TABLE t_15 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_15 (note)",
        "DROP TABLE t_15"
    ),
    (
        M16,
        "f00000000016",
        &["f00000000015"],
        "CREATE TABLE t_16 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_16 (note)",
        "DROP TABLE t_16"
    ),
    (
        M17,
        "f00000000017",
        &["f00000000016"],
        "CREATE TABLE t_17 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_17 (note)",
        "DROP TABLE t_17"
    ),
    (
        M18,
        "f00000000018",
        &["f00000000017"],
        "CREATE TABLE t_18 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_18 (note)",
        "DROP TABLE t_18"
    ),
    (
        M19,
        "f00000000019",
        &["f00000000018"],
        "CREATE TABLE t_19 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_19 (note)",
        "DROP TABLE t_19"
    ),
    (
        M20,
        "f00000000020",
        &["f00000000019"],
        "CREATE TABLE t_20 (id bigint PRIMARY KEY, note text); CREATE INDEX ON t_20 (note)",
        "DROP TABLE t_20"
    ),
);

const HEAD: &str = "f00000000020";

fn size(variable: &str, default: usize) -> usize {
    std::env::var(variable).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn tenant_schemas_each_get_their_tables_their_version_and_their_objects() {
    let db = database();
    let tenants = size("FANOUT_TENANTS", 100);
    // Hostile names among them: quotes, a dot, spaces, upper case, a semicolon.
    let mut names: Vec<String> = (0..tenants.saturating_sub(3)).map(|i| format!("tenant_{i:04}")).collect();
    names.extend(["Tenant \"Q\".x".to_owned(), "t; DROP SCHEMA public".to_owned(), "ünï côdé".to_owned()]);
    let create: Vec<String> =
        names.iter().map(|n| format!("CREATE SCHEMA \"{}\";", n.replace('"', "\"\""))).collect();
    execute(db.url(), &create.join("\n"));
    // An object of another application in public: a tenant's schema is judged fresh on its own.
    execute(db.url(), "CREATE TABLE public.accounts (id int)");
    let targets: Vec<Target> = names.iter().map(|n| Target::schema(db.url(), n).expect("a target")).collect();
    let fleet = Fleet::new(Migrator::new(&TWENTY)).jobs(8);
    let report = fleet.upgrade(&targets, "head").expect("the fan-out runs");
    for target in &report.targets {
        match &target.outcome {
            Outcome::Done(done) => {
                assert_eq!(done.after, [HEAD], "{}", target.target);
                assert_eq!(done.steps.len(), 20, "{}", target.target);
            }
            other => panic!("{}: {other}", target.target),
        }
    }
    assert_eq!(report.targets.len(), names.len());
    // Each tenant's schema holds its 20 tables, its version table at the head and its history.
    let counts = query(
        db.url(),
        "SELECT n.nspname, count(*) FILTER (WHERE c.relname LIKE 't\\_%'), \
         count(*) FILTER (WHERE c.relname = 'alembic_version'), count(*) FILTER (WHERE c.relname = 'migrate_history') \
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r' \
         WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'public') \
         GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(counts.len(), names.len(), "{counts:?}");
    for line in &counts {
        assert!(line.ends_with(" 20 1 1"), "a tenant's schema lacks its tables: {line}");
    }
    for name in &names {
        let quoted = name.replace('"', "\"\"").replace('\'', "''");
        let version = query(db.url(), &format!("SELECT version_num FROM \"{quoted}\".alembic_version"));
        assert_eq!(version, [HEAD], "{name}");
    }
    // Nothing of theirs in public, and public's own table left alone.
    let public = query(
        db.url(),
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
    );
    assert_eq!(public, ["accounts"]);
    // Again: nothing to do anywhere.
    let again = fleet.upgrade(&targets, "head").expect("the fan-out runs");
    assert!(again.targets.iter().all(|t| t.outcome.kind() == "unchanged"), "{:?}", again.targets);
    // One tenant down, alone.
    let one = Fleet::new(Migrator::new(&TWENTY)).downgrade(&targets[..1], "base").expect("runs");
    assert_eq!(one.targets[0].outcome.kind(), "migrated");
    let left = query(
        db.url(),
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'tenant_0000'::regnamespace AND relname LIKE 't\\_%'",
    );
    assert_eq!(left, ["0"]);
    let others = query(
        db.url(),
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'tenant_0001'::regnamespace AND relkind = 'r' AND relname LIKE 't\\_%'",
    );
    assert_eq!(others, ["20"]);
}

#[test]
fn a_tenant_schema_holding_tables_without_a_version_table_is_still_refused() {
    let db = database();
    execute(db.url(), "CREATE SCHEMA fresh; CREATE SCHEMA taken; CREATE TABLE taken.t_01 (id int)");
    let targets = [
        Target::schema(db.url(), "fresh").expect("a target"),
        Target::schema(db.url(), "taken").expect("a target"),
    ];
    let report = Fleet::new(Migrator::new(&TWENTY)).keep_going(true).upgrade(&targets, "head").expect("runs");
    assert_eq!(report.targets[0].outcome.kind(), "migrated");
    match &report.targets[1].outcome {
        Outcome::Failed(error @ Error::ExistingSchema { .. }) => {
            assert!(error.to_string().contains("taken.t_01"), "{error}");
        }
        other => panic!("the schema holding a table was not refused: {other}"),
    }
    assert_eq!(query(db.url(), "SELECT to_regclass('taken.alembic_version') IS NULL"), ["t"]);
}

/// `n` databases of the test server, the `broken`-th unreachable (a port nothing listens on).
fn databases(n: usize) -> Vec<testkit::TestDatabase> {
    (0..n).map(|_| database()).collect()
}

fn unreachable_target() -> Target {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    Target::database(&format!("postgres://postgres@127.0.0.1:{port}/nothing?connect_timeout=2"))
        .expect("a target")
}

#[test]
fn databases_stop_at_the_first_failure_or_go_on_and_a_canary_stage_guards_the_rest() {
    let dbs = databases(size("FANOUT_DATABASES", 10));
    let mut targets: Vec<Target> = dbs.iter().map(|d| Target::database(d.url()).expect("a target")).collect();
    targets.insert(3, unreachable_target());
    let total = targets.len();

    // One at a time, stopping at the first failure: the three before it migrated, none after.
    let report = Fleet::new(Migrator::new(&TWENTY)).jobs(1).upgrade(&targets, "head").expect("runs");
    let kinds: Vec<&str> = report.targets.iter().map(|t| t.outcome.kind()).collect();
    let mut expected = vec!["migrated"; 3];
    expected.push("failed");
    expected.extend(vec!["not-run"; total - 4]);
    assert_eq!(kinds, expected);
    assert_eq!(report.failed().count(), 1);
    assert!(!report.is_success());
    for db in &dbs[3..] {
        assert_eq!(
            rows("SELECT to_regclass('alembic_version') IS NULL", db),
            ["t"],
            "{} was migrated",
            db.name()
        );
    }

    // A canary stage of two whose second fails: nothing else runs, whatever keep_going says.
    let mut canaried = targets.clone();
    canaried.swap(1, 3);
    let report = Fleet::new(Migrator::new(&TWENTY))
        .jobs(4)
        .canary(2)
        .keep_going(true)
        .upgrade(&canaried, "head")
        .expect("runs");
    let kinds: Vec<&str> = report.targets.iter().map(|t| t.outcome.kind()).collect();
    assert_eq!(kinds[..2], ["unchanged", "failed"]);
    assert!(kinds[2..].iter().all(|k| *k == "not-run"), "{kinds:?}");
    match &report.targets[2].outcome {
        Outcome::NotRun(why) => assert!(why.contains("canary"), "{why}"),
        other => panic!("{other}"),
    }

    // Going on: every reachable database at the head, the one failure named.
    let report =
        Fleet::new(Migrator::new(&TWENTY)).jobs(4).keep_going(true).upgrade(&targets, "head").expect("runs");
    let failed: Vec<&str> = report.failed().map(|t| t.target.as_str()).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].contains("/nothing"), "{failed:?}");
    for db in &dbs {
        assert_eq!(rows("SELECT version_num FROM alembic_version", db), [HEAD], "{}", db.name());
    }
}

/// The embedded command line's exit, with `args`.
fn cli(args: &[&str]) -> ExitCode {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    migrate_runtime::cli::run_with_args(&TWENTY, &args)
}

#[test]
fn the_command_line_fans_out_over_a_query_and_exits_3_naming_the_failures() {
    let dbs = databases(3);
    let names: Vec<String> = dbs.iter().map(|d| format!("'{}'", d.name())).collect();
    let query_sql =
        format!("SELECT datname FROM pg_database WHERE datname IN ({}) ORDER BY 1", names.join(", "));
    let admin = dbs[0].url().to_owned();
    assert_eq!(
        cli(&["upgrade", "head", "--database-url", &admin, "--databases-query", &query_sql, "--jobs", "2"]),
        ExitCode::from(0)
    );
    for db in &dbs {
        assert_eq!(rows("SELECT version_num FROM alembic_version", db), [HEAD]);
    }
    // A file of targets, one of them unreachable: exit 3 after the others were migrated.
    let dir = tempdir();
    let file = dir.join("targets");
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    std::fs::write(
        &file,
        format!(
            "# the tenants\n{}\n\npostgres://postgres@127.0.0.1:{port}/nothing?connect_timeout=2\n",
            dbs[1].url()
        ),
    )
    .expect("writes");
    let file = file.display().to_string();
    assert_eq!(
        cli(&["downgrade", "base", "--targets-file", &file, "--continue-on-error"]),
        ExitCode::from(3)
    );
    assert_eq!(rows("SELECT count(*) FROM alembic_version", &dbs[1]), ["0"]);
    assert_eq!(rows("SELECT version_num FROM alembic_version", &dbs[2]), [HEAD]);
    // Fan-out options without a fan-out, and --sql with one, are usage errors.
    assert_eq!(cli(&["upgrade", "head", "--database-url", &admin, "--canary", "1"]), ExitCode::from(2));
    assert_eq!(cli(&["upgrade", "head", "--sql", "--target", &admin]), ExitCode::from(2));
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-fanout-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Waits until the standby `url` has replayed what makes `sql` return `expected`.
fn replayed(url: &str, sql: &str, expected: &[&str]) {
    for _ in 0..200 {
        if let Ok(mut client) = testkit::client(url)
            && let Ok(messages) = client.simple_query(sql)
        {
            let got: Vec<String> = messages
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect();
            if got == expected {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the standby never showed {expected:?} for {sql}");
}

#[test]
fn a_standby_and_read_only_databases_are_refused_before_anything_and_can_be_skipped() {
    let primary = Cluster::start().expect("a cluster");
    let admin = primary.url("postgres");
    for sql in [
        "CREATE DATABASE app",
        "CREATE DATABASE frozen",
        "ALTER DATABASE frozen SET default_transaction_read_only = on",
    ] {
        execute(&admin, sql);
    }
    let app = primary.url("app");
    Migrator::new(&TWENTY).upgrade(app.as_str(), "f00000000005").expect("the primary migrates");
    let standby = primary.standby().expect("a standby");
    let replica = standby.url("app");
    replayed(&replica, "SELECT version_num FROM alembic_version", &["f00000000005"]);
    assert_eq!(query(&replica, "SELECT pg_is_in_recovery()"), ["t"]);

    // Every command that changes the database is refused on the standby, naming it.
    let migrator = Migrator::new(&TWENTY);
    for (what, result) in [
        ("upgrade", migrator.upgrade(replica.as_str(), "head").map(drop)),
        ("downgrade", migrator.downgrade(replica.as_str(), "base").map(drop)),
        ("stamp", migrator.stamp(replica.as_str(), &["head"], false).map(drop)),
        ("accept", migrator.accept_checksums(replica.as_str(), &["f00000000001"])),
    ] {
        match result {
            Err(error @ Error::ReadOnly { .. }) => {
                let text = error.to_string();
                assert!(text.contains(&format!("127.0.0.1:{}/app", standby.port())), "{what}: {text}");
                assert!(text.contains("standby"), "{what}: {text}");
                assert!(error.help().is_some_and(|h| h.contains("primary")), "{what}");
            }
            other => panic!("{what} on a standby was not refused as read-only: {other:?}"),
        }
    }
    // What reads works on it.
    assert_eq!(migrator.current(replica.as_str()).expect("current"), ["f00000000005"]);
    assert_eq!(
        cli(&["check", "--database-url", &replica, "--dev-url", &admin]),
        ExitCode::from(1),
        "not at its heads"
    );

    // A database whose transactions are read-only: refused, and nothing created on it.
    let frozen = primary.url("frozen");
    match migrator.upgrade(frozen.as_str(), "head") {
        Err(error @ Error::ReadOnly { .. }) => {
            assert!(error.to_string().contains("default_transaction_read_only"), "{error}")
        }
        other => panic!("a read-only database was not refused: {other:?}"),
    }
    assert_eq!(
        query(&frozen, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
        ["0"]
    );

    // In a fan-out: failed, or skipped when asked, while the primary is migrated.
    let targets = [
        Target::database(&app).expect("t"),
        Target::database(&replica).expect("t"),
        Target::database(&frozen).expect("t"),
    ];
    let report = Fleet::new(Migrator::new(&TWENTY)).keep_going(true).upgrade(&targets, "head").expect("runs");
    let kinds: Vec<&str> = report.targets.iter().map(|t| t.outcome.kind()).collect();
    assert_eq!(kinds, ["migrated", "failed", "failed"]);
    let report =
        Fleet::new(Migrator::new(&TWENTY)).skip_read_only(true).upgrade(&targets, "head").expect("runs");
    let kinds: Vec<&str> = report.targets.iter().map(|t| t.outcome.kind()).collect();
    assert_eq!(kinds, ["unchanged", "skipped", "skipped"]);
    assert!(report.is_success());
    // The standby follows its primary to the head.
    replayed(&replica, "SELECT version_num FROM alembic_version", &[HEAD]);
    assert_eq!(cli(&["check", "--database-url", &replica, "--dev-url", &admin]), ExitCode::from(0));
    assert_eq!(cli(&["upgrade", "head", "--database-url", &replica]), ExitCode::from(3));
    assert_eq!(cli(&["upgrade", "head", "--database-url", &replica, "--skip-read-only"]), ExitCode::from(0));
}

fn pg_restore(file: &Path, url: &str) {
    let bin = std::process::Command::new("pg_config").arg("--bindir").output().expect("pg_config");
    let bin = String::from_utf8_lossy(&bin.stdout).trim().to_owned();
    let status = std::process::Command::new(Path::new(&bin).join("pg_restore"))
        .arg("--dbname")
        .arg(url)
        .arg("--no-owner")
        .arg(file)
        .status()
        .expect("pg_restore runs");
    assert!(status.success(), "pg_restore failed on {}", file.display());
}

#[test]
fn a_backup_is_written_before_the_first_change_and_restores_the_database_as_it_was() {
    // A role with a password the URL must percent-encode, on a server that asks for it: the
    // backup can only connect if the password reaches pg_dump.
    let cluster =
        Cluster::start_with(&ClusterSettings::default().hba("host all keeper 127.0.0.1/32 scram-sha-256"))
            .expect("a cluster");
    let admin = cluster.url("postgres");
    execute(&admin, "CREATE ROLE keeper LOGIN PASSWORD 'p@ss w:rd/''\"%' SUPERUSER");
    execute(&admin, "CREATE DATABASE shop OWNER keeper");
    execute(&admin, "CREATE DATABASE copy");
    let url = format!("postgres://keeper:p%40ss%20w%3Ard%2F'%22%25@127.0.0.1:{}/shop", cluster.port());
    Migrator::new(&TWENTY).upgrade(url.as_str(), "f00000000002").expect("migrates");
    execute(&url, "INSERT INTO t_01 VALUES (1, 'kept')");
    let dir = tempdir();
    let report = Migrator::new(&TWENTY).backup_to(&dir).upgrade(url.as_str(), "head").expect("migrates");
    let file = report.backup.expect("a backup is named");
    let name = file.file_name().and_then(|n| n.to_str()).expect("a name").to_owned();
    assert!(name.starts_with(&format!("127.0.0.1_{}_shop-f00000000002-", cluster.port())), "{name}");
    assert!(name.ends_with("Z.dump"), "{name}");
    // Restored, it is the database before the run: at f00000000002 with its row.
    pg_restore(&file, &cluster.url("copy"));
    let copy = cluster.url("copy");
    assert_eq!(query(&copy, "SELECT version_num FROM alembic_version"), ["f00000000002"]);
    assert_eq!(query(&copy, "SELECT note FROM t_01"), ["kept"]);
    assert_eq!(query(&copy, "SELECT to_regclass('t_03') IS NULL"), ["t"]);
    // Nothing to do: no backup.
    let again = Migrator::new(&TWENTY).backup_to(&dir).upgrade(url.as_str(), "head").expect("runs");
    assert_eq!(again.backup, None);

    // A backup that cannot be written refuses the run, and nothing changes.
    Migrator::new(&TWENTY).downgrade(url.as_str(), "f00000000002").expect("downgrades");
    let blocked = dir.join("a file, not a folder");
    std::fs::write(&blocked, "").expect("writes");
    match Migrator::new(&TWENTY).backup_to(&blocked).upgrade(url.as_str(), "head") {
        Err(error @ Error::Backup { .. }) => {
            let text = error.to_string();
            assert!(text.contains("/shop"), "{text}");
            assert!(!text.contains("p@ss") && !text.contains("p%40ss"), "the password shown: {text}");
        }
        other => panic!("a failed backup did not refuse the run: {other:?}"),
    }
    assert_eq!(query(&url, "SELECT version_num FROM alembic_version"), ["f00000000002"]);
    // A hook refuses the run before its first change, knowing what it would do.
    let hooked = Migrator::new(&TWENTY).before_changes(|changes| {
        if changes.steps.len() == 18 && changes.before == ["f00000000002"] && changes.after == [HEAD] {
            Err("not on a Tuesday".to_owned())
        } else {
            Ok(())
        }
    });
    match hooked.upgrade(url.as_str(), "head") {
        Err(error @ Error::Refused { .. }) => {
            assert!(error.to_string().contains("not on a Tuesday"), "{error}")
        }
        other => panic!("the hook did not refuse the run: {other:?}"),
    }
    assert_eq!(query(&url, "SELECT version_num FROM alembic_version"), ["f00000000002"]);
    // The fan-out's report names each target's backup.
    let report = Fleet::new(Migrator::new(&TWENTY).backup_to(&dir))
        .upgrade(&[Target::database(&url).expect("t")], "head")
        .expect("runs");
    match &report.targets[0].outcome {
        Outcome::Done(done) => assert!(done.backup.as_ref().is_some_and(|f| f.exists()), "{done:?}"),
        other => panic!("{other}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

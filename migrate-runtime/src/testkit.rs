//! Testing migrations against a real PostgreSQL (feature `testkit`).
//!
//! - [`server`]: the server tests use. With `DATABASE_URL` set, that server; otherwise a
//!   throwaway cluster started from the machine's PostgreSQL binaries (`initdb`, `pg_ctl`, found
//!   on `PATH` or through `pg_config --bindir`) in a temporary folder on a free port, as the
//!   `postgres` user when running as root. It is started once per test run and shared by all
//!   its test processes (nextest runs each test in a process of its own); a small supervisor
//!   stops it and removes its folder when the run (cargo or nextest) ends.
//! - [`TestDatabase`]: a fresh database per test, dropped afterwards; [`TestDatabase::migrated`]
//!   clones it from a template database migrated once per run, so tests do not replay the
//!   whole chain each, and [`TestDatabase::before`] from one migrated just before a revision,
//!   for testing a data migration with data ([`TestDatabase::apply`], [`TestDatabase::revert`]).
//! - [`stairway`]: applies, reverts and applies again every migration in turn and compares the
//!   schema before each one with the schema after its downgrade through the schema model
//!   ([`crate::catalog`]), naming every migration whose downgrade fails or does not restore the
//!   schema, with what differs.
//!
//! Nothing here skips: without `DATABASE_URL` and without PostgreSQL binaries, every call
//! fails with a message saying what to install or set.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_core::graph::NodeId;
use migrate_core::sql::{quote_ident, quote_literal};
use postgres::{Client, SimpleQueryMessage};
use sha2::{Digest, Sha256};

use crate::backup::find_binary;
use crate::catalog::{Options, Schema, differences};
use crate::connect::connect;
use crate::error::{Error, describe};
use crate::runner::Migrator;
use crate::session::outside_runtime;

/// Why the test kit could not give a database.
#[derive(Debug)]
pub struct TestkitError(String);

impl fmt::Display for TestkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestkitError {}

impl From<Error> for TestkitError {
    fn from(error: Error) -> Self {
        TestkitError(error.report())
    }
}

fn fail(message: impl Into<String>) -> TestkitError {
    TestkitError(message.into())
}

/// The PostgreSQL server tests use.
#[derive(Debug)]
pub struct Server {
    /// The connection string of its maintenance database.
    admin_url: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The server of this test run: `DATABASE_URL`'s, or the shared throwaway cluster.
pub fn server() -> Result<&'static Server, TestkitError> {
    SERVER
        .get_or_init(|| match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Ok(Server { admin_url: url }),
            _ => outside_runtime(throwaway).map_err(|e| e.0),
        })
        .as_ref()
        .map_err(|message| fail(message.clone()))
}

impl Server {
    /// The connection string of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        with_database(&self.admin_url, name)
    }

    fn admin(&self) -> Result<Client, TestkitError> {
        connect(&self.admin_url).map_err(TestkitError::from)
    }
}

/// `pg_dump` of the database `url`, as the backups run it: the connection settings in
/// libpq's environment, never on its command line (which every user of the machine can read),
/// none of this process's own `PG*` variables, never asking for a password. Add the flags and
/// run it.
///
/// # Errors
///
/// `pg_dump` found neither on `PATH` nor in `pg_config --bindir`; a connection string with
/// settings libpq's environment cannot carry.
pub fn pg_dump(url: &str) -> Result<std::process::Command, TestkitError> {
    let environment =
        crate::Database::parse(url).map_err(|e| TestkitError(e.to_string()))?.libpq_environment();
    crate::backup::pg_dump_command(&environment.map_err(TestkitError)?).map_err(TestkitError)
}

/// `url` with its database replaced by `name` (URL or `key=value` form).
pub fn with_database(url: &str, name: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let path_start = rest.find('/').map(|i| scheme_end + 3 + i);
        let query_start = url.find('?');
        let end = query_start.unwrap_or(url.len());
        let (head, tail) = match path_start {
            Some(p) if p < end => (&url[..p], &url[end..]),
            _ => (&url[..end], &url[end..]),
        };
        return format!("{head}/{name}{tail}");
    }
    let mut pairs: Vec<String> =
        url.split_whitespace().filter(|p| !p.starts_with("dbname=")).map(str::to_owned).collect();
    pairs.push(format!("dbname={name}"));
    pairs.join(" ")
}

/// The process whose end ends the run: cargo or nextest when they started this test process,
/// else this process.
fn run_owner() -> u32 {
    let parent = std::os::unix::process::parent_id();
    let name = std::fs::read_to_string(format!("/proc/{parent}/comm")).unwrap_or_default();
    if matches!(name.trim(), "cargo" | "cargo-nextest") { parent } else { std::process::id() }
}

/// The `postgres` user's uid and gid, when running as root (initdb refuses root).
fn postgres_user() -> Result<Option<(u32, u32)>, TestkitError> {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
    if !root {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let fields: Vec<&str> =
        passwd.lines().find(|l| l.starts_with("postgres:")).unwrap_or_default().split(':').collect();
    match (fields.get(2).and_then(|u| u.parse().ok()), fields.get(3).and_then(|g| g.parse().ok())) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => Err(fail(
            "running as root, and there is no `postgres` user to run the test server as (initdb refuses root)",
        )),
    }
}

/// A command, run as the `postgres` user when running as root.
fn command(binary: &Path, user: Option<(u32, u32)>) -> Command {
    match user {
        Some(_) => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        }
        None => Command::new(binary),
    }
}

fn run(mut command: Command, what: &str) -> Result<(), TestkitError> {
    let output =
        command.stdin(Stdio::null()).output().map_err(|e| fail(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(fail(format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}

/// A cluster just started.
struct Started {
    data: PathBuf,
    pg_ctl: PathBuf,
    user: Option<(u32, u32)>,
    port: u16,
}

/// Creates a cluster in `dir` and starts it on a free port with `options`.
fn init_and_start(dir: &Path, options: &str, settings: &ClusterSettings) -> Result<Started, TestkitError> {
    let missing = || {
        fail(
            "no DATABASE_URL is set and no PostgreSQL binaries were found (initdb and pg_ctl, on PATH or in \
             `pg_config --bindir`): install PostgreSQL, or set DATABASE_URL to a server where the tests may create \
             databases",
        )
    };
    let initdb = find_binary("initdb").ok_or_else(missing)?;
    let pg_ctl = find_binary("pg_ctl").ok_or_else(missing)?;
    let user = postgres_user()?;
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .map_err(|e| fail(format!("cannot give {} to postgres: {e}", dir.display())))?;
    }
    let mut init = command(&initdb, user);
    init.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
        "--no-instructions",
    ]);
    run(init, "initdb")?;
    settings.write(&data, user)?;
    start(dir, data, pg_ctl, user, options)
}

/// Starts the server of the data directory `data` (in `dir`, which holds its log and
/// socket) on a free port.
fn start(
    dir: &Path,
    data: PathBuf,
    pg_ctl: PathBuf,
    user: Option<(u32, u32)>,
    options: &str,
) -> Result<Started, TestkitError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| fail(format!("cannot find a free port: {e}")))?
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off {options}",
        dir.display()
    );
    let mut start = command(&pg_ctl, user);
    start
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "-o", &options, "start"]);
    run(start, "pg_ctl start")?;
    Ok(Started { data, pg_ctl, user, port })
}

/// A new folder for a cluster of a test's own, given to the server's user.
fn cluster_dir(user: Option<(u32, u32)>) -> Result<PathBuf, TestkitError> {
    let dir = std::env::temp_dir().join(format!("migrate-cluster-{}-{}", std::process::id(), fresh_name()));
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| fail(format!("cannot give {} to postgres: {e}", dir.display())))?;
    }
    Ok(dir)
}

/// A cluster of a test's own, for tests that restart or stop the server under a run;
/// stopped and removed when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    data: PathBuf,
    pg_ctl: PathBuf,
    user: Option<(u32, u32)>,
    port: u16,
}

/// What a [`Cluster`] starts with beyond the defaults: `postgresql.conf` and `pg_hba.conf`
/// lines, and files in its data directory (a TLS server's certificate and key).
///
/// ```no_run
/// # use migrate_runtime::testkit::{Cluster, ClusterSettings};
/// # let (certificate, key) = (String::new(), String::new());
/// let cluster = Cluster::start_with(
///     &ClusterSettings::default()
///         .file("server.crt", certificate)
///         .file("server.key", key)
///         .conf("ssl = on")
///         .conf("ssl_cert_file = 'server.crt'")
///         .conf("ssl_key_file = 'server.key'")
///         .hba("hostnossl all all all reject"),
/// )?;
/// # Ok::<(), migrate_runtime::testkit::TestkitError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClusterSettings {
    conf: Vec<String>,
    hba: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

impl ClusterSettings {
    /// A line appended to `postgresql.conf` (`ssl = on`).
    pub fn conf(mut self, line: impl Into<String>) -> ClusterSettings {
        self.conf.push(line.into());
        self
    }

    /// A line of `pg_hba.conf`, put before the default ones (which trust every connection
    /// from this machine): the first line a connection matches decides, so
    /// `hostnossl all all all reject` refuses plain text.
    pub fn hba(mut self, line: impl Into<String>) -> ClusterSettings {
        self.hba.push(line.into());
        self
    }

    /// A file of the data directory, owned by the server's user and readable by it alone (as
    /// a server key must be); `conf` lines name it by its bare name, relative to the data
    /// directory.
    pub fn file(mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) -> ClusterSettings {
        self.files.push((name.into(), contents.into()));
        self
    }

    /// Writes the settings into a cluster's data directory, before it starts.
    fn write(&self, data: &Path, user: Option<(u32, u32)>) -> Result<(), TestkitError> {
        use std::os::unix::fs::PermissionsExt;
        let write = |path: &Path, contents: &[u8]| {
            std::fs::write(path, contents).map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
        };
        for (name, contents) in &self.files {
            let path = data.join(name);
            write(&path, contents)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail(format!("cannot restrict {}: {e}", path.display())))?;
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                    .map_err(|e| fail(format!("cannot give {} to postgres: {e}", path.display())))?;
            }
        }
        if !self.conf.is_empty() {
            let path = data.join("postgresql.conf");
            let mut conf = std::fs::read_to_string(&path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            conf.push_str(&format!("\n{}\n", self.conf.join("\n")));
            write(&path, conf.as_bytes())?;
        }
        if !self.hba.is_empty() {
            let path = data.join("pg_hba.conf");
            let hba = std::fs::read_to_string(&path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            write(&path, format!("{}\n{hba}", self.hba.join("\n")).as_bytes())?;
        }
        Ok(())
    }
}

impl Cluster {
    /// Creates and starts a cluster from the machine's binaries.
    pub fn start() -> Result<Cluster, TestkitError> {
        Cluster::start_with(&ClusterSettings::default())
    }

    /// Creates and starts a cluster with `settings` (configuration lines, `pg_hba.conf` lines,
    /// files such as a TLS certificate and key).
    pub fn start_with(settings: &ClusterSettings) -> Result<Cluster, TestkitError> {
        let dir = cluster_dir(postgres_user()?)?;
        let Started { data, pg_ctl, user, port } = init_and_start(&dir, "", settings)?;
        Ok(Cluster { dir, data, pg_ctl, user, port })
    }

    /// A streaming standby of this cluster, as `pg_basebackup -R` makes one: a copy of its
    /// data that replays what the primary writes and serves read-only queries
    /// (`pg_is_in_recovery()` is true); stopped and removed when dropped.
    pub fn standby(&self) -> Result<Cluster, TestkitError> {
        let base_backup = find_binary("pg_basebackup").ok_or_else(|| {
            fail("pg_basebackup was found neither on PATH nor in `pg_config --bindir`: install PostgreSQL's binaries")
        })?;
        let dir = cluster_dir(self.user)?;
        let data = dir.join("data");
        let mut copy = command(&base_backup, self.user);
        copy.arg("-D").arg(&data).args([
            "-R",
            "-X",
            "stream",
            "--no-sync",
            "--checkpoint=fast",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ]);
        copy.arg("-p").arg(self.port.to_string());
        run(copy, "pg_basebackup")?;
        let Started { data, pg_ctl, user, port } = start(&dir, data, self.pg_ctl.clone(), self.user, "")?;
        Ok(Cluster { dir, data, pg_ctl, user, port })
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Restarts the server (fast shutdown: sessions are ended, transactions rolled back),
    /// waiting until it accepts connections again.
    pub fn restart(&self) -> Result<(), TestkitError> {
        let mut restart = command(&self.pg_ctl, self.user);
        restart.arg("-D").arg(&self.data).arg("-l").arg(self.dir.join("server.log"));
        restart.args(["-w", "-t", "60", "-m", "fast", "restart"]);
        run(restart, "pg_ctl restart")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = command(&self.pg_ctl, self.user);
        stop.arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]);
        let _ = run(stop, "pg_ctl stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the run's cluster, or finds it started by another process of the run.
fn throwaway() -> Result<Server, TestkitError> {
    let owner = run_owner();
    let dir = std::env::temp_dir().join(format!("migrate-testkit-{owner}"));
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let lock =
        File::create(dir.join("lock")).map_err(|e| fail(format!("cannot create the lock file: {e}")))?;
    lock.lock().map_err(|e| fail(format!("cannot lock {}: {e}", dir.display())))?;
    let port_file = dir.join("port");
    if let Ok(port) = std::fs::read_to_string(&port_file) {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", port.trim());
        if connect(&url).is_ok() {
            return Ok(Server { admin_url: url });
        }
    }
    let Started { data, pg_ctl, user, port } =
        init_and_start(&dir, "-c max_connections=300", &ClusterSettings::default())?;
    // The supervisor outlives this process and stops the cluster when the run ends.
    let as_postgres = if user.is_some() { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done; {as_postgres}{} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
        pg_ctl.display(),
        data.display(),
        dir.display()
    );
    Command::new("setsid")
        .args(["-f", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot start the test server's supervisor: {e}")))?;
    std::fs::write(&port_file, port.to_string())
        .map_err(|e| fail(format!("cannot write {}: {e}", port_file.display())))?;
    Ok(Server { admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres") })
}

/// A synchronous client of `url`, connected as the runner connects (the same TLS settings,
/// the same errors, which never show the password): for a test's own queries on a server of
/// its own.
pub fn client(url: &str) -> Result<Client, TestkitError> {
    outside_runtime(|| connect(url).map_err(TestkitError::from))
}

/// A database of its own for one test, dropped when the value is.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn fresh_name() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mt_{}_{}_{nanos:08x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn execute(client: &mut Client, sql: &str, what: &str) -> Result<(), TestkitError> {
    client.batch_execute(sql).map_err(|e| fail(format!("{what}: {}", describe(&e))))
}

impl TestDatabase {
    /// An empty database.
    pub fn new() -> Result<TestDatabase, TestkitError> {
        TestDatabase::create("template0")
    }

    fn create(template: &str) -> Result<TestDatabase, TestkitError> {
        outside_runtime(|| TestDatabase::create_here(template))
    }

    fn create_here(template: &str) -> Result<TestDatabase, TestkitError> {
        let server = server()?;
        let name = fresh_name();
        let mut admin = server.admin()?;
        execute(
            &mut admin,
            &format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(template)),
            "cannot create a test database",
        )?;
        Ok(TestDatabase { url: server.url(&name), name })
    }

    /// A database at the chain's heads, cloned from a template database that is migrated
    /// once per run (and per chain).
    pub fn migrated(migrator: &Migrator) -> Result<TestDatabase, TestkitError> {
        outside_runtime(|| TestDatabase::from_template(migrator, None))
    }

    /// A database just before revision `rev` (an id or a unique prefix of one, as the
    /// runner's targets take it): every ancestor of `rev` applied, nothing else, cloned from a
    /// template database migrated once per run (and per chain and revision). For testing a
    /// data migration with data: insert rows, [`TestDatabase::apply`] it, check the rows.
    ///
    /// ```no_run
    /// # use migrate_runtime::{Migrator, testkit::TestDatabase};
    /// # fn check(migrator: &Migrator) -> Result<(), Box<dyn std::error::Error>> {
    /// let database = TestDatabase::before(migrator, "e6d1a4b7c382")?;
    /// database.connect()?.batch_execute("INSERT INTO interactions …")?;
    /// database.apply(migrator, "e6d1a4b7c382")?;
    /// // Check the rows; then `database.revert(migrator, "e6d1a4b7c382")?` to check the downgrade.
    /// # Ok(())
    /// # }
    /// ```
    pub fn before(migrator: &Migrator, rev: &str) -> Result<TestDatabase, TestkitError> {
        outside_runtime(|| {
            let node = revision(migrator, rev, "cannot take a database before it")?;
            TestDatabase::from_template(migrator, Some(node))
        })
    }

    /// A clone of the template database at the chain's heads (`before` none) or just before
    /// a revision, migrating the template first when this run has none yet. Concurrent test
    /// processes wait for each other on an advisory lock named after the template; a template
    /// is built under a `_building` name and renamed when migrated, so that a half-built one
    /// is never cloned.
    fn from_template(migrator: &Migrator, before: Option<NodeId>) -> Result<TestDatabase, TestkitError> {
        let server = server()?;
        let graph = migrator.graph();
        let mut hasher = Sha256::new();
        for (migration, checksum) in migrator.chain().iter().zip(migrator.compiled()) {
            hasher.update(migration.rev.as_bytes());
            hasher.update(checksum.as_bytes());
        }
        // The target: the heads add nothing (the templates' names from before), a revision
        // its id.
        if let Some(node) = before {
            hasher.update(b"\0before ");
            hasher.update(graph.rev(node).as_bytes());
        }
        let digest: String = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        let template = format!("mt_template_{digest}");
        let mut admin = server.admin()?;
        let key = format!("hashtext({})", quote_literal(&template));
        execute(&mut admin, &format!("SELECT pg_advisory_lock({key})"), "cannot lock the template")?;
        let exists = query(
            &mut admin,
            &format!("SELECT 1 FROM pg_database WHERE datname = {}", quote_literal(&template)),
        )?;
        if exists.is_empty() {
            let building = format!("{template}_building");
            execute(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {}", quote_ident(&building)),
                "cannot clean a template",
            )?;
            execute(
                &mut admin,
                &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&building)),
                "cannot create a template",
            )?;
            let url = server.url(&building);
            match before {
                None => {
                    migrator.upgrade(url, "heads")?;
                }
                // The rows whose ancestors are what the revision needs (its parents and
                // dependencies) and theirs.
                Some(node) => {
                    migrator.upgrade_to(&url, &graph.heads_after(&graph.requires(node), &[], true))?
                }
            }
            execute(
                &mut admin,
                &format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building), quote_ident(&template)),
                "cannot finish a template",
            )?;
        }
        execute(&mut admin, &format!("SELECT pg_advisory_unlock({key})"), "cannot unlock the template")?;
        TestDatabase::create_here(&template)
    }

    /// Applies revision `rev` alone, as the runner would (recorded in the version and history
    /// tables); refused unless the database is just before it: every ancestor applied, `rev`
    /// not (an upgrade to it would run more than this one step, or none).
    pub fn apply(&self, migrator: &Migrator, rev: &str) -> Result<(), TestkitError> {
        outside_runtime(|| {
            let node = revision(migrator, rev, "cannot apply it")?;
            let graph = migrator.graph();
            let current = version_rows(migrator, &self.url)?;
            let path = graph.upgrade_path(&current, &[node]);
            if path != [node] {
                let name = describe_rev(migrator, node);
                let at = shown_rows(migrator, &current);
                return Err(fail(if path.is_empty() {
                    format!("cannot apply {name}: it is applied already (the database is at {at})")
                } else {
                    let others: Vec<&str> =
                        path.iter().filter(|&&n| n != node).map(|&n| graph.rev(n)).collect();
                    format!(
                        "cannot apply {name} alone: the database (at {at}) is not just before it; reaching it \
                         would also apply {}",
                        others.join(", ")
                    )
                }));
            }
            migrator.step(&self.url, node, true)?;
            Ok(())
        })
    }

    /// Runs the downgrade of revision `rev` alone, as the runner would; refused unless `rev` is
    /// one of the database's version rows (applied, and nothing that grows from it applied).
    pub fn revert(&self, migrator: &Migrator, rev: &str) -> Result<(), TestkitError> {
        outside_runtime(|| {
            let node = revision(migrator, rev, "cannot revert it")?;
            let current = version_rows(migrator, &self.url)?;
            if !current.contains(&node) {
                return Err(fail(format!(
                    "cannot revert {} alone: it is not a version row of the database (at {}): either it is not \
                     applied, or a migration that grows from it is",
                    describe_rev(migrator, node),
                    shown_rows(migrator, &current)
                )));
            }
            migrator.step(&self.url, node, false)?;
            Ok(())
        })
    }

    /// Its connection string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A synchronous connection to it (in asynchronous code, connect to [`TestDatabase::url`]
    /// with `tokio_postgres`: a synchronous client cannot be used on a runtime's thread).
    pub fn connect(&self) -> Result<Client, TestkitError> {
        outside_runtime(|| connect(&self.url).map_err(TestkitError::from))
    }

    /// Its schema through the schema model: see [`schema`].
    pub fn schema(&self, migrator: &Migrator) -> Result<Schema, TestkitError> {
        outside_runtime(|| schema(&mut connect(&self.url)?, migrator))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        outside_runtime(|| {
            if let Ok(server) = server()
                && let Ok(mut admin) = server.admin()
            {
                drop_database(&mut admin, &self.name);
            }
        });
    }
}

/// The node revision `rev` (an id or a unique prefix) names, or an error naming it.
fn revision(migrator: &Migrator, rev: &str, what: &str) -> Result<NodeId, TestkitError> {
    migrator.graph().lookup(rev).map_err(|e| fail(format!("{what}: {e}")))
}

/// `rev` and its slug, for a message.
fn describe_rev(migrator: &Migrator, node: NodeId) -> String {
    let migration = migrator.chain().migrations()[node];
    format!("`{}` ({})", migration.rev, migration.slug)
}

/// The database's version rows, as nodes.
fn version_rows(migrator: &Migrator, url: &str) -> Result<Vec<NodeId>, TestkitError> {
    let graph = migrator.graph();
    migrator
        .current(url)?
        .iter()
        .map(|row| {
            graph
                .node(row)
                .ok_or_else(|| fail(format!("the database has version row `{row}`, not in the chain")))
        })
        .collect()
}

/// Version rows for a message: `base` when there are none.
fn shown_rows(migrator: &Migrator, rows: &[NodeId]) -> String {
    if rows.is_empty() { "base".to_owned() } else { migrator.graph().revs_of(rows).join(", ") }
}

/// The rows of a query, each as its text values joined by spaces.
fn query(client: &mut Client, sql: &str) -> Result<Vec<String>, TestkitError> {
    let messages =
        client.simple_query(sql).map_err(|e| fail(format!("cannot read the catalog: {}", describe(&e))))?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect())
}

/// The user schema of the database through the schema model ([`crate::catalog`]), the
/// migrator's own tables, owners and privileges left out.
pub fn schema(client: &mut Client, migrator: &Migrator) -> Result<Schema, TestkitError> {
    Schema::read(client, &Options::new().ignore_runner_tables(&migrator.table_names()))
        .map_err(|e| fail(format!("cannot read the catalog: {}", describe(&e))))
}

/// The session the stairway reads the schema through, again and again: its own, its catalog
/// caches warm and the model's queries prepared once.
struct Reading {
    client: Client,
    prepared: bool,
}

impl Reading {
    fn new(database: &TestDatabase) -> Result<Reading, TestkitError> {
        Ok(Reading { client: database.connect()?, prepared: false })
    }

    /// The schema, grants included: on one server, one set of roles, a grant a downgrade
    /// forgets counts too.
    fn schema(&mut self, migrator: &Migrator) -> Result<Schema, TestkitError> {
        let options = Options::new().ignore_runner_tables(&migrator.table_names()).privileges(true);
        crate::catalog::read_prepared(&mut self.client, &options, &mut self.prepared)
            .map_err(|e| fail(format!("cannot read the catalog: {}", describe(&e))))
    }
}

/// What the stairway check found wrong with one migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StairFailure {
    /// The revision.
    pub rev: String,
    /// Its slug.
    pub slug: String,
    /// Its file.
    pub file: String,
    /// What went wrong.
    pub problem: String,
}

/// The result of [`stairway`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stairway {
    /// The migrations whose downgrade was checked.
    pub checked: Vec<String>,
    /// The irreversible migrations, not checked, with their reasons.
    pub irreversible: Vec<(String, String)>,
    /// Every migration whose upgrade or downgrade failed or whose downgrade did not restore the
    /// schema.
    pub failures: Vec<StairFailure>,
}

impl Stairway {
    /// Whether every downgrade restored the schema.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Stairway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stairway: {} migrations checked, {} irreversible, {} failed",
            self.checked.len(),
            self.irreversible.len(),
            self.failures.len()
        )?;
        for failure in &self.failures {
            write!(
                f,
                "\n- {} ({}, {}): {}",
                failure.rev,
                failure.slug,
                failure.file,
                failure.problem.replace('\n', "\n  ")
            )?;
        }
        Ok(())
    }
}

/// The stairway check on a fresh database: for every migration in order, upgrade it,
/// downgrade it, compare the schema with the one before its upgrade, and upgrade it again.
/// Every migration whose downgrade fails or leaves a different schema is named, not only the
/// first; after such a step the database is rebuilt so that the check can go on. A downgrade
/// that recorded no operation while its upgrade recorded some is named without being run (the
/// build refuses such a body, but one can record nothing at run time, behind a condition).
pub fn stairway(migrator: &Migrator) -> Result<Stairway, TestkitError> {
    outside_runtime(|| stairway_here(migrator))
}

fn stairway_here(migrator: &Migrator) -> Result<Stairway, TestkitError> {
    let mut database = TestDatabase::new()?;
    // One session reads the schema throughout, another per step migrates.
    let mut reader = Reading::new(&database)?;
    let graph = migrator.graph();
    let mut report = Stairway::default();
    let mut applied: Vec<NodeId> = Vec::new();
    for &node in graph.linear() {
        let migration = migrator.chain().migrations()[node];
        let failure = |problem: String| StairFailure {
            rev: migration.rev.to_owned(),
            slug: migration.slug.to_owned(),
            file: migration.file.to_owned(),
            problem,
        };
        let before = reader.schema(migrator)?;
        if let Err(error) = migrator.step(database.url(), node, true) {
            report.failures.push(failure(format!("upgrade failed: {}", error.report())));
            // What grows from a migration that does not apply cannot be checked.
            break;
        }
        let rows_after = graph.heads_after(&applied, &[node], true);
        if let Some(reason) = migration.downgrade_ops().irreversible_reason() {
            report.irreversible.push((migration.rev.to_owned(), reason.to_owned()));
            applied = rows_after;
            continue;
        }
        let recorded = migration.upgrade_ops().operations().len();
        if recorded > 0 && migration.downgrade_ops().is_empty() {
            // Nothing would undo the upgrade: the version row would go and the change stay.
            // The database stays at this step, where the next one expects it.
            report.failures.push(failure(format!(
                "downgrade recorded no operation while upgrade recorded {recorded}\n= help: undo what \
                 `upgrade` does, or say why it cannot be undone: `op.irreversible(\"reason\")`"
            )));
            applied = rows_after;
            continue;
        }
        report.checked.push(migration.rev.to_owned());
        let broken = match migrator.step(database.url(), node, false) {
            Err(error) => Some(format!("downgrade failed: {}", error.report())),
            Ok(()) => {
                let changes = before.diff(&reader.schema(migrator)?);
                (!changes.is_empty())
                    .then(|| format!("downgrade did not restore the schema:\n{}", differences(&changes)))
            }
        };
        match broken {
            None => {
                if let Err(error) = migrator.step(database.url(), node, true) {
                    report
                        .failures
                        .push(failure(format!("upgrade after its downgrade failed: {}", error.report())));
                    database = rebuild(migrator, &rows_after)?;
                    reader = Reading::new(&database)?;
                }
            }
            Some(problem) => {
                report.failures.push(failure(problem));
                database = rebuild(migrator, &rows_after)?;
                reader = Reading::new(&database)?;
            }
        }
        applied = rows_after;
    }
    Ok(report)
}

/// The first line of a schema file's header: what wrote it.
const SCHEMA_FILE_HEADER: &str =
    "-- The schema the migrations build at their head, written by `cargo migrate schema`.";
/// The header line that names the head(s) the file was written at.
const SCHEMA_FILE_HEAD: &str = "-- head: ";

/// The committed schema snapshot of the chain: the schema its heads build, replayed on a
/// throwaway database of [`server`] and read through the schema model ([`Schema::to_sql`]),
/// after a header naming the head(s) and saying the file is written by `cargo migrate
/// schema`, not by hand.
pub fn schema_file(migrator: &Migrator) -> Result<String, TestkitError> {
    outside_runtime(|| {
        let schema = head_schema(migrator)?;
        Ok(format!("{}{}", schema_file_header(migrator), schema.to_sql()))
    })
}

/// The schema the chain's heads build, on a throwaway database dropped afterwards: unlike a
/// template, it leaves nothing on a server of `DATABASE_URL`'s where `cargo migrate schema`
/// runs.
fn head_schema(migrator: &Migrator) -> Result<Schema, TestkitError> {
    rebuild(migrator, &migrator.graph().heads())?.schema(migrator)
}

fn schema_file_header(migrator: &Migrator) -> String {
    format!(
        "{SCHEMA_FILE_HEADER}\n-- Do not edit it by hand: after adding a migration, run `cargo migrate schema` again \
         and commit it.\n{SCHEMA_FILE_HEAD}{}\n\n",
        head_revs(migrator)
    )
}

fn head_revs(migrator: &Migrator) -> String {
    let graph = migrator.graph();
    graph.revs_of(&graph.heads()).join(", ")
}

/// What differs between the schema file at `path` and the schema the chain's heads build, one
/// line each, empty when the file is up to date: when it is, to the byte, what `schema` writes
/// now, or else when it builds the same schema: the file's SQL is run on a throwaway database
/// of [`server`] and read back through the schema model, so a server of another version
/// printing a definition differently does not make it stale.
/// Lines are [`crate::catalog::Change`]s from the file to the head (`+` in the head only, `-`
/// in the file only, `~` changed), and `~ head: …` when the header names other heads.
pub fn schema_file_differences(migrator: &Migrator, path: &Path) -> Result<Vec<String>, TestkitError> {
    outside_runtime(|| {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(vec![format!("`{}` does not exist", path.display())]);
            }
            Err(e) => return Err(fail(format!("cannot read `{}`: {e}", path.display()))),
        };
        let head = head_schema(migrator)?;
        // What `schema` would write now: up to date, even where the model cannot write an
        // object so that the file rebuilds it (README, "The schema model").
        if text == format!("{}{}", schema_file_header(migrator), head.to_sql()) {
            return Ok(Vec::new());
        }
        let loaded = TestDatabase::new()?;
        let mut client = loaded.connect()?;
        if let Err(e) = client.batch_execute(&text) {
            return Ok(vec![format!("its SQL does not run: {}", describe(&e))]);
        }
        let file = schema(&mut client, migrator)?;
        let mut lines: Vec<String> = file.diff(&head).iter().map(ToString::to_string).collect();
        let written = text.lines().find_map(|l| l.strip_prefix(SCHEMA_FILE_HEAD)).unwrap_or("none");
        let heads = head_revs(migrator);
        if written.trim() != heads {
            lines.insert(0, format!("~ head: {} → {heads}", written.trim()));
        }
        Ok(lines)
    })
}

/// Checks that the committed schema file at `path` is what the chain's heads build (see
/// [`schema_file_differences`]); for a crate's own test:
///
/// ```no_run
/// # use migrate_runtime::{Chain, Migrator, testkit};
/// # static MIGRATIONS: Chain = Chain::new(&[]);
/// let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.sql");
/// testkit::check_schema_file(&Migrator::new(&MIGRATIONS), &path).unwrap();
/// ```
///
/// # Errors
///
/// When the file is stale: its path, what differs, and the help (run `cargo migrate schema`
/// and commit the file); or why the check could not run.
pub fn check_schema_file(migrator: &Migrator, path: impl AsRef<Path>) -> Result<(), TestkitError> {
    let path = path.as_ref();
    let lines = schema_file_differences(migrator, path)?;
    if lines.is_empty() {
        return Ok(());
    }
    Err(fail(stale_schema_file(path, &lines)))
}

/// The message of a stale schema file: its path, what differs, the help.
pub(crate) fn stale_schema_file(path: &Path, lines: &[String]) -> String {
    format!(
        "the schema file `{}` is stale: it is not what the head builds (+ in the head, not in the file; - in the \
         file, not in the head; ~ changed from the file to the head):\n{}\n= help: run `cargo migrate schema` and \
         commit the file",
        path.display(),
        lines.join("\n")
    )
}

/// The schema that `rows` of the chain build: replayed on a throwaway database of the server
/// whose maintenance database is `admin_url`, read, and the database dropped. For `check
/// --db`'s drift gate, which never replays on the database it checks.
#[cfg(feature = "cli")]
pub(crate) fn replayed_schema(
    migrator: &Migrator,
    admin_url: &str,
    rows: &[NodeId],
) -> Result<Schema, TestkitError> {
    outside_runtime(|| {
        let mut admin = connect(admin_url)?;
        let name = fresh_name().replacen("mt_", "migrate_replay_", 1);
        execute(
            &mut admin,
            &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name)),
            "cannot create a throwaway database on the dev server",
        )?;
        let url = with_database(admin_url, &name);
        let replayed = (|| -> Result<Schema, TestkitError> {
            migrator.upgrade_to(&url, rows)?;
            schema(&mut connect(&url)?, migrator)
        })();
        drop_database(&mut admin, &name);
        replayed
    })
}

/// Drops database `name`, ending its sessions (`WITH (FORCE)`, PostgreSQL 13 and later; a plain
/// drop before).
fn drop_database(admin: &mut Client, name: &str) {
    let drop = format!("DROP DATABASE IF EXISTS {}", quote_ident(name));
    if admin.batch_execute(&format!("{drop} WITH (FORCE)")).is_err() {
        let _ = admin.batch_execute(&drop);
    }
}

/// A fresh database with `rows` applied, replacing one a failed step left in doubt.
fn rebuild(migrator: &Migrator, rows: &[NodeId]) -> Result<TestDatabase, TestkitError> {
    let database = TestDatabase::new()?;
    migrator.upgrade_to(database.url(), rows)?;
    Ok(database)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        let cases = [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/t1"),
            ("postgres://u@h:5432", "postgres://u@h:5432/t1"),
            ("postgres://u:p@h/db?sslmode=disable", "postgres://u:p@h/t1?sslmode=disable"),
            ("host=h user=u dbname=postgres", "host=h user=u dbname=t1"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t1"), expected);
        }
    }
}

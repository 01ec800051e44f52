//! The backend end to end: started on a fresh database, it migrates at start-up, serves its
//! API, and its embedded `migrate` commands see the schema at its head.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Migrator};

static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

/// The backend process, killed when the test ends.
struct Backend(Child);

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// One HTTP request; the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let payload = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, serde_json::from_str(payload).unwrap_or(serde_json::Value::Null)))
}

/// The first answer of `GET /health`, waiting up to a minute for the backend to listen.
fn health_once_up(port: u16) -> (u16, serde_json::Value) {
    let start = Instant::now();
    loop {
        if let Ok(answer) = http(port, "GET", "/health", "") {
            return answer;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the backend never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_backend_migrates_then_serves() {
    let database = TestDatabase::new().expect("a test database");
    let port = free_port();
    let backend = Backend(
        Command::new(env!("CARGO_BIN_EXE_crm-backend"))
            .env("DATABASE_URL", database.url())
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts"),
    );
    let health = health_once_up(port);
    let head = MIGRATIONS.heads()[0].rev;
    assert_eq!(health.0, 200);
    assert_eq!(health.1["revision"], head);
    assert_eq!(health.1["at_head"], true);

    let (status, organisation) =
        http(port, "POST", "/organisations", r#"{"name": "Alforis"}"#).expect("answers");
    assert_eq!(status, 201);
    let body = format!(
        r#"{{"organisation_id": {}, "type": "linkedin_message", "description": "Followed up on LinkedIn"}}"#,
        organisation["id"]
    );
    let (status, created) = http(port, "POST", "/interactions", &body).expect("answers");
    assert_eq!((status, created["status"].as_str()), (201, Some("pending")), "{created}");
    let (status, list) = http(port, "GET", "/interactions", "").expect("answers");
    assert_eq!(status, 200);
    assert_eq!(list[0]["description"], "Followed up on LinkedIn");
    assert_eq!(list[0]["type"], "linkedin_message");
    let (status, _) = http(port, "GET", "/nowhere", "").expect("answers");
    assert_eq!(status, 404);
    let (status, _) = http(port, "POST", "/organisations", "not json").expect("answers");
    assert_eq!(status, 400);

    // Requests are served by the pool's connections, not by a connection each: the sessions
    // ever opened to the database (a server counter) barely move over twenty requests.
    let sessions = || {
        std::thread::sleep(Duration::from_millis(500));
        let mut client = database.connect().expect("connects");
        let row = client
            .query_one("SELECT sessions FROM pg_stat_database WHERE datname = current_database()", &[])
            .expect("reads");
        row.get::<_, i64>(0)
    };
    let before = sessions();
    for _ in 0..20 {
        assert_eq!(http(port, "GET", "/health", "").expect("answers").0, 200);
    }
    let opened = sessions() - before;
    assert!(opened <= 3, "{opened} sessions opened for twenty requests");
    drop(backend);

    // The schema is the chain's head, as the runtime and the embedded commands see it.
    assert_eq!(Migrator::new(&MIGRATIONS).current(database.url()).expect("reads"), [head]);
    let check = Command::new(env!("CARGO_BIN_EXE_crm-backend"))
        .args(["migrate", "check", "--json"])
        .env("DATABASE_URL", database.url())
        .output()
        .expect("runs");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON");
    assert_eq!(check["at_heads"], true);
    let down = Command::new(env!("CARGO_BIN_EXE_crm-backend"))
        .args(["migrate", "downgrade", "-1"])
        .env("DATABASE_URL", database.url())
        .output()
        .expect("runs");
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    let check = Command::new(env!("CARGO_BIN_EXE_crm-backend"))
        .args(["migrate", "check"])
        .env("DATABASE_URL", database.url())
        .output()
        .expect("runs");
    assert_eq!(check.status.code(), Some(1), "a database below its head fails the deploy gate");
}

#[test]
fn the_container_entrypoint_migrates_then_serves() {
    let database = TestDatabase::new().expect("a test database");
    let port = free_port();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_crm-backend")).parent().expect("a folder").to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let backend = Backend(
        Command::new("sh")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/entrypoint.sh"))
            .env("PATH", path)
            .env("DATABASE_URL", database.url())
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts"),
    );
    let health = health_once_up(port);
    assert_eq!((health.0, health.1["at_head"].as_bool()), (200, Some(true)));
    drop(backend);
    // Each migration ran once: in the migration step, the server then finding nothing to do.
    let mut client = database.connect().expect("connects");
    let steps: i64 = client
        .query_one("SELECT count(*) FROM migrate_history WHERE direction = 'upgrade' AND success", &[])
        .expect("reads")
        .get(0);
    assert_eq!(steps, i64::try_from(MIGRATIONS.len()).expect("a count"));

    // A failing migration step stops the container before the server starts.
    let status = Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/entrypoint.sh"))
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("PORT", free_port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(3), "the migration's exit code, and no server");
}

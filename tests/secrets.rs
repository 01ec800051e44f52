//! No password is ever printed: connection strings of every form libpq accepts, each with a
//! generated password full of special characters, fed to every error path (in process, and
//! through the command line with and without `--json`), against a closed port and a live
//! server that refuses the database. `SECRET_CASES=<n>` runs more cases; `SECRET_SEED=<n>`
//! replays a run.

use std::process::Command;

use migrate_runtime::testkit::server;
use migrate_runtime::{Chain, Database, Migrator};

static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");

/// Characters a password may hold, the awkward ones many times over.
const ALPHABET: &[u8] = b"abcXYZ0189@@//::??##%%&&==  ''\"\"\\\\[]{},;!$*+~^|<>";

struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound.max(1) as u64) as usize
    }
}

/// Markers no message would hold by chance, one per part of a password, so that a part of
/// it shown (cut at a special character) is caught too.
fn markers(case: usize) -> [String; 3] {
    [format!("Pa{case}x"), format!("Pb{case}y"), format!("Pc{case}w")]
}

/// A password: three parts, each a marker then special characters.
fn password(random: &mut Random, case: usize) -> String {
    let mut text = String::new();
    for marker in markers(case) {
        text.push_str(&marker);
        for _ in 0..(2 + random.below(6)) {
            text.push(char::from(ALPHABET[random.below(ALPHABET.len())]));
        }
    }
    text
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A key=value value, quoted as libpq reads it.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Every form of connection string for `host`, `port`, database `db` and `password`.
fn forms(host: &str, port: u16, db: &str, password: &str) -> Vec<String> {
    let enc = encode(password);
    vec![
        format!("postgres://postgres:{enc}@{host}:{port}/{db}"),
        format!("postgresql://postgres:{password}@{host}:{port}/{db}"),
        format!("postgres://postgres@{host}:{port}/{db}?password={enc}"),
        format!("postgres://postgres@{host}:{port}/{db}?sslmode=disable&password={enc}&connect_timeout=5"),
        format!("postgres://postgres:{enc}@[::1]:{port}/{db}"),
        format!("postgres://postgres:{enc}@%2Ftmp%2Fno-such-socket-dir/{db}"),
        format!("postgresql:///{db}?host={host}&port={port}&user=postgres&password={password}"),
        format!("postgres://{host}:{port}/{db}?user=postgres&password={password}"),
        format!("host={host} port={port} user=postgres password={} dbname={db}", quote(password)),
        format!("host = {host}  port = {port} user = postgres password = {} dbname = {db}", quote(password)),
        format!("host=/tmp/no-such-socket-dir user=postgres password={} dbname={db}", quote(password)),
        format!("host={host} port=not-a-port user=postgres password={} dbname={db}", quote(password)),
        format!("postgres://postgres:{enc}@{host}:{port}/{db}?sslmode=no-such-mode"),
    ]
}

/// What a leak would show: the whole password, encoded, or any of its parts' markers.
fn leaks(text: &str, password: &str, case: usize) -> Option<String> {
    [password.to_owned(), encode(password)]
        .into_iter()
        .chain(markers(case))
        .find(|needle| text.contains(needle.as_str()))
}

#[test]
fn no_password_is_printed_for_any_form_of_connection_string() {
    let cases: usize = std::env::var("SECRET_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24);
    let seed: u64 = std::env::var("SECRET_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    });
    let mut random = Random(seed | 1);
    let live = server().unwrap_or_else(|e| panic!("no test server: {e}")).url("postgres");
    let port: u16 = live
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a port");
    let migrator = Migrator::new(&DIAMOND).lock_wait(std::time::Duration::from_secs(1));
    let mut checked = 0;
    for case in 0..cases {
        let password = password(&mut random, case);
        for (target_port, db) in [(closed, "postgres"), (port, "no_such_database")] {
            for url in forms("127.0.0.1", target_port, db, &password) {
                let mut outputs = vec![
                    Database::parse(&url).map(|d| d.target().to_owned()).unwrap_or_default(),
                    format!("{:?}", Database::parse(&url)),
                    format!("{:?}", migrator.upgrade(&url, "head").map(|r| r.after)),
                    match migrator.upgrade(&url, "head") {
                        Ok(_) => String::new(),
                        Err(e) => e.report(),
                    },
                    migrator.current(&url).err().map(|e| e.report()).unwrap_or_default(),
                ];
                // The command line, on a sample of the cases (each is a process).
                if case % 4 == 0 {
                    for args in [&["current"][..], &["--json", "current"], &["upgrade", "head"]] {
                        let output = Command::new(env!("CARGO_BIN_EXE_migrate-racer"))
                            .arg("cli")
                            .args(["--database-url", &url])
                            .args(args)
                            .output()
                            .expect("runs");
                        assert!(!output.status.success(), "{url}: {args:?} succeeded");
                        outputs.push(String::from_utf8_lossy(&output.stdout).into_owned());
                        outputs.push(String::from_utf8_lossy(&output.stderr).into_owned());
                    }
                    let output = Command::new(env!("CARGO_BIN_EXE_migrate-racer"))
                        .args(["cli", "current"])
                        .env("DATABASE_URL", &url)
                        .output()
                        .expect("runs");
                    outputs.push(String::from_utf8_lossy(&output.stderr).into_owned());
                }
                for output in &outputs {
                    if let Some(leak) = leaks(output, &password, case) {
                        panic!("`{leak}` printed for {url} (SECRET_SEED={seed}):\n{output}");
                    }
                }
                checked += outputs.len();
            }
        }
    }
    println!(
        "{checked} outputs of {cases} passwords in 13 forms, none shows a password (SECRET_SEED={seed})"
    );
}

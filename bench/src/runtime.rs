//! The runtime benchmark: applying, re-running and reverting N trivial migrations on a real
//! PostgreSQL, beside psql running the same SQL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migrate_runtime::testkit;

use crate::crates::{rev, stamp, workspace, write};
use crate::ratio;

/// The crate of N trivial migrations (CREATE TABLE up, DROP TABLE down).
fn generate(root: &Path, size: usize) -> Result<PathBuf, String> {
    let dir = runner_crate(root, &format!("bench-runtime-{size}"))?;
    let migrations = dir.join("migrations");
    for i in 0..size {
        let down = if i == 0 { "None".to_owned() } else { format!("\"{}\"", rev(i - 1)) };
        let text = format!(
            "/// Benchmark table {i}.\n#[migration(rev = \"{}\", down_revision = {down})]\nmod add_bench_table_{i} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.create_table(\"t_{i}\", |t| {{\n            t.column(\"id\", Type::Integer);\n        }});\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.drop_table(\"t_{i}\");\n    }}\n}}\n",
            rev(i)
        );
        write(&migrations.join(format!("{}_{}_add_bench_table_{i}.rs", stamp(i), rev(i))), &text)?;
    }
    Ok(dir)
}

/// A crate named `name` whose binary runs `<url> up|up-one|down` over the migrations of its
/// folder and prints the steps and round trips.
pub(crate) fn runner_crate(root: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = root.join(name);
    let path = |p: &Path| format!("{:?}", p.display().to_string());
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nmigrate-runtime = {{ path = {} }}\n\n[build-dependencies]\nmigrate-build = {{ path = {} }}\n\n[workspace]\n",
            path(&workspace().join("migrate-runtime")),
            path(&workspace().join("build-support"))
        ),
    )?;
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    }
    write(&dir.join("build.rs"), "fn main() {\n    migrate_build::compile();\n}\n")?;
    write(
        &dir.join("src/main.rs"),
        r#"static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!();

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let migrator = migrate_runtime::Migrator::new(&MIGRATIONS);
    let result = match args.get(2).map(String::as_str) {
        Some("up") => migrator.upgrade(&args[1], "head"),
        Some("up-one") => migrator.one_transaction(true).upgrade(&args[1], "head"),
        Some("down") => migrator.downgrade(&args[1], "base"),
        _ => {
            eprintln!("usage: <url> up|up-one|down");
            return std::process::ExitCode::FAILURE;
        }
    };
    match result {
        Ok(report) => {
            println!("{} {}", report.steps.len(), report.round_trips);
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}
"#,
    )?;
    Ok(dir)
}

/// The SQL floors: the same statements in one file, all in one transaction (`psql -1`) or
/// each migration in its own `BEGIN`/`COMMIT`.
fn floors(dir: &Path, size: usize) -> Result<[PathBuf; 3], String> {
    let up: Vec<String> =
        (0..size).map(|i| format!("CREATE TABLE \"t_{i}\" (\n    \"id\" integer\n);\n")).collect();
    let down: Vec<String> = (0..size).rev().map(|i| format!("DROP TABLE \"t_{i}\";\n")).collect();
    let each = |statements: &[String]| {
        statements.iter().map(|s| format!("BEGIN;\n{s}COMMIT;\n")).collect::<String>()
    };
    let files = [dir.join("all_up.sql"), dir.join("each_up.sql"), dir.join("each_down.sql")];
    write(&files[0], &up.concat())?;
    write(&files[1], &each(&up))?;
    write(&files[2], &each(&down))?;
    Ok(files)
}

/// Builds the runner crate in `dir` in release; returns its binary.
pub(crate) fn build_release(dir: &Path, target: &Path, name: &str) -> Result<PathBuf, String> {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--offline", "--release"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cannot build {}", dir.display()));
    }
    Ok(target.join("release").join(name))
}

pub(crate) fn psql_binary() -> Result<PathBuf, String> {
    let output = Command::new("pg_config").arg("--bindir").output().map_err(|e| format!("pg_config: {e}"))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("psql"))
}

/// Runs a whole process and times it.
pub(crate) fn timed(mut command: Command) -> Result<(Duration, String), String> {
    let start = Instant::now();
    let output = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let time = start.elapsed();
    if !output.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok((time, String::from_utf8_lossy(&output.stdout).into_owned()))
}

pub(crate) fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub(crate) struct Database {
    name: String,
    pub(crate) url: String,
    admin: postgres::Client,
}

impl Database {
    pub(crate) fn fresh(server: &testkit::Server, n: usize) -> Result<Database, String> {
        let name = format!("bench_runtime_{}_{n}", std::process::id());
        let mut admin =
            postgres::Client::connect(&server.url("postgres"), postgres::NoTls).map_err(|e| e.to_string())?;
        // Two statements, two queries: CREATE DATABASE refuses the implicit transaction of a batch.
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            admin.batch_execute(&sql).map_err(|e| e.to_string())?;
        }
        Ok(Database { url: server.url(&name), name, admin })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

pub(crate) fn run(sizes: &[usize], runs: usize, out: &Path) -> Result<(), String> {
    let server = testkit::server().map_err(|e| e.to_string())?;
    let psql = psql_binary()?;
    let crates = out.join("crates");
    let target = out.join("target");
    println!("## Runtime: whole processes on a fresh database (median of {runs} runs)\n");
    println!(
        "| N | migrate, a transaction per migration | floor: psql, BEGIN/COMMIT per migration | ratio | migrate, one transaction | floor: psql -1 | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut other_rows = Vec::new();
    for &size in sizes {
        eprintln!("runtime N={size}: building…");
        let dir = generate(&crates, size)?;
        let binary = build_release(&dir, &target, &format!("bench-runtime-{size}"))?;
        let [all_up, each_up, each_down] = floors(&dir, size)?;
        let ours = |url: &str, mode: &str| {
            let mut c = Command::new(&binary);
            c.args([url, mode]);
            c
        };
        let psql_file = |url: &str, file: &Path, one: bool| {
            let mut c = Command::new(&psql);
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
            if one {
                c.arg("-1");
            }
            c.arg("-d").arg(url).arg("-f").arg(file);
            c
        };
        let mut samples: [Vec<Duration>; 8] = Default::default();
        let mut trips = String::new();
        for run in 0..runs {
            eprintln!("runtime N={size}: run {}…", run + 1);
            let db = Database::fresh(server, 0)?;
            let (time, output) = timed(ours(&db.url, "up"))?;
            samples[0].push(time);
            trips = output;
            samples[4].push(timed(ours(&db.url, "up"))?.0);
            let mut select = Command::new(&psql);
            select.args(["-X", "-q", "-d", &db.url, "-c", "SELECT 1"]);
            samples[5].push(timed(select)?.0);
            samples[6].push(timed(ours(&db.url, "down"))?.0);
            drop(db);
            let db = Database::fresh(server, 1)?;
            samples[1].push(timed(psql_file(&db.url, &each_up, false))?.0);
            samples[7].push(timed(psql_file(&db.url, &each_down, false))?.0);
            drop(db);
            let db = Database::fresh(server, 2)?;
            samples[2].push(timed(ours(&db.url, "up-one"))?.0);
            drop(db);
            let db = Database::fresh(server, 3)?;
            samples[3].push(timed(psql_file(&db.url, &all_up, true))?.0);
        }
        let [up, floor_each, up_one, floor_one, noop, select, down, floor_down] = samples.map(median);
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {size} | {} | {} | {} | {} | {} | {} |",
            ms(up),
            ms(floor_each),
            ratio(up, floor_each),
            ms(up_one),
            ms(floor_one),
            ratio(up_one, floor_one)
        );
        let round_trips: Vec<usize> = trips.split_whitespace().filter_map(|w| w.parse().ok()).collect();
        other_rows.push((size, noop, select, down, floor_down, round_trips));
    }
    println!("\n## Runtime: the no-op run at head, the downgrade to base, round trips\n");
    println!(
        "| N | no-op run | psql -c 'SELECT 1' | ratio | downgrade to base | floor: psql, BEGIN/COMMIT per migration | ratio | round trips of the upgrade (per migration) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (size, noop, select, down, floor_down, round_trips) in other_rows {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let trips = match round_trips.as_slice() {
            [steps, trips] => format!("{trips} ({:.3})", *trips as f64 / (*steps).max(1) as f64),
            _ => "n/a".to_owned(),
        };
        println!(
            "| {size} | {} | {} | {} | {} | {} | {} | {trips} |",
            ms(noop),
            ms(select),
            ratio(noop, select),
            ms(down),
            ms(floor_down),
            ratio(down, floor_down)
        );
    }
    Ok(())
}

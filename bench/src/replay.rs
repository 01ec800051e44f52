//! The replay benchmark: crates.io's 285 Diesel migrations, imported with
//! `cargo migrate import`, applied from empty by the imported crate's binary, beside psql
//! applying the same files in one session and in one process per file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use migrate_runtime::testkit;

use crate::crates::{workspace, write};
use crate::ratio;
use crate::runtime::{Database, build_release, median, psql_binary, runner_crate, timed};

/// One source migration: its folder and whether Diesel runs it in a transaction.
struct Source {
    folder: PathBuf,
    transactional: bool,
}

/// The corpus in Diesel's order (folders sorted by version: the name before the first `_`,
/// without dashes).
fn corpus(dir: &Path) -> Result<Vec<Source>, String> {
    let mut folders: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.split('_').next().unwrap_or_default().replace('-', ""), e.path())
        })
        .collect();
    folders.sort();
    Ok(folders
        .into_iter()
        .map(|(_, folder)| Source { transactional: !folder.join("metadata.toml").is_file(), folder })
        .collect())
}

/// The one-session floor: one psql script including every up.sql in order, each inside
/// `BEGIN`/`COMMIT` unless Diesel runs it outside a transaction.
fn session_script(sources: &[Source], path: &Path) -> Result<(), String> {
    let mut script = String::new();
    for source in sources {
        let file = source.folder.join("up.sql");
        let include = format!("\\i '{}'\n", file.display().to_string().replace('\'', "''"));
        if source.transactional {
            script.push_str(&format!("BEGIN;\n{include}COMMIT;\n"));
        } else {
            script.push_str(&include);
        }
    }
    write(path, &script)
}

pub(crate) fn run(runs: usize, out: &Path) -> Result<(), String> {
    let server = testkit::server().map_err(|e| e.to_string())?;
    let psql = psql_binary()?;
    let source_dir = workspace().join("corpus").join("crates-io").join("migrations");
    let sources = corpus(&source_dir)?;
    let name = "bench-crates-io";
    let dir = runner_crate(&out.join("crates"), name)?;
    // Imported afresh each time: writing the crate put back a Cargo.toml without start_after.
    let _ = std::fs::remove_dir_all(dir.join("migrations"));
    eprintln!("replay: importing…");
    let import = Command::new("cargo")
        .args([
            "run",
            "--quiet",
            "--offline",
            "--release",
            "-p",
            "migrate-cli",
            "--",
            "migrate",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .args(["import", "--from", "diesel"])
        .arg(&source_dir)
        .current_dir(workspace())
        .output()
        .map_err(|e| e.to_string())?;
    eprint!("{}", String::from_utf8_lossy(&import.stdout));
    if !import.status.success() {
        return Err(format!("cannot import the corpus: {}", String::from_utf8_lossy(&import.stderr)));
    }
    eprintln!("replay: building…");
    let binary = build_release(&dir, &out.join("target"), name)?;
    let script = dir.join("session.sql");
    session_script(&sources, &script)?;
    let psql_command = |url: &str| {
        let mut c = Command::new(&psql);
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
        c
    };

    let mut ours = Vec::new();
    let mut session = Vec::new();
    let mut per_file = Vec::new();
    let mut trips = String::new();
    for run in 0..runs {
        eprintln!("replay: run {}…", run + 1);
        let db = Database::fresh(server, 0)?;
        let mut command = Command::new(&binary);
        command.args([db.url.as_str(), "up"]);
        let (time, output) = timed(command)?;
        ours.push(time);
        trips = output;
        drop(db);

        let db = Database::fresh(server, 1)?;
        let mut command = psql_command(&db.url);
        command.arg("-f").arg(&script);
        session.push(timed(command)?.0);
        drop(db);

        let db = Database::fresh(server, 2)?;
        let mut total = Duration::ZERO;
        for source in &sources {
            let mut command = psql_command(&db.url);
            if source.transactional {
                command.arg("-1");
            }
            command.arg("-f").arg(source.folder.join("up.sql"));
            total += timed(command)?.0;
        }
        per_file.push(total);
    }
    let [ours, session, per_file] = [ours, session, per_file].map(median);
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    let round_trips: Vec<usize> = trips.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    println!(
        "## Replay: crates.io's {} migrations from empty (whole processes, median of {runs} runs)\n",
        sources.len()
    );
    println!(
        "| migrate (imported) | floor: one psql session | ratio | one psql process per file | ratio | round trips |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {} |",
        ms(ours),
        ms(session),
        ratio(ours, session),
        ms(per_file),
        ratio(ours, per_file),
        match round_trips.as_slice() {
            [steps, trips] => format!("{trips} for {steps} migrations"),
            _ => "n/a".to_owned(),
        }
    );
    Ok(())
}

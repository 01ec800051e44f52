//! Benchmarks, printed as Markdown tables; the method is in BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p migrate-bench -- compile [--sizes 100,1000,5000] [--release-sizes 1000]
//!                                                [--runs 3] [--peers]
//! cargo run --release -p migrate-bench -- runtime [--sizes 100,1000] [--runs 3]
//! cargo run --release -p migrate-bench -- replay [--runs 3]
//! cargo run --release -p migrate-bench -- fanout [--schemas 1000] [--databases 50] [--migrations 20]
//!                                               [--jobs 1,4,16] [--memory-jobs 16] [--runs 3]
//! ```
//!
//! `compile` generates crates with N valid migrations, builds them with cargo and reports,
//! side by side in one run: the full build of the crate (dependencies already built), the
//! rebuild after adding one migration, and the peak memory, for the crate checked by
//! migrate (build.rs + `#[migration]`) and for the same crate with its migration modules
//! declared plainly; with `--peers`, also a crate embedding N SQL files with sqlx's
//! `migrate!`. It also times the whole-folder check alone, in process, to show how it scales.
//!
//! `runtime` applies, re-runs and reverts N trivial migrations on a real PostgreSQL (the test
//! kit's server: `DATABASE_URL`, or a throwaway cluster), whole processes, beside psql running
//! the same SQL in one transaction and in one transaction per migration.
//!
//! `replay` imports crates.io's 285 Diesel migrations (`corpus/crates-io`) with `cargo migrate
//! import` and applies them from empty, beside psql applying the same files in one session and
//! in one process per file.
//!
//! `fanout` applies one chain to many targets of a server of its own (`max_connections = 100`):
//! tenant schemas of one database and databases, with `Fleet` at several job counts, beside a
//! sequential loop of `Migrator::upgrade` and one psql process per target; then the peak memory
//! of a child process running the fleet over the schemas.

mod crates;
mod fanout;
mod replay;
mod runtime;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crates::{Kind, generate_crate, migration_file};

struct Options {
    sizes: Vec<usize>,
    release_sizes: Vec<usize>,
    runs: usize,
    peers: bool,
    out: PathBuf,
}

fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("not a size: `{s}`")))
        .collect()
}

fn options(args: &[String]) -> Result<Options, String> {
    let workspace = crates::workspace();
    let mut options = Options {
        sizes: vec![100, 1000, 5000],
        release_sizes: vec![1000],
        runs: 3,
        peers: false,
        out: workspace.join("target").join("bench"),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--sizes" => options.sizes = parse_sizes(value()?)?,
            "--release-sizes" => options.release_sizes = parse_sizes(value()?)?,
            "--runs" => options.runs = value()?.parse().map_err(|_| "`--runs` takes a number".to_owned())?,
            "--peers" => options.peers = true,
            "--out" => options.out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("compile") => options(&args[1..]).and_then(|o| compile(&o)),
        Some("runtime") => options(&args[1..]).and_then(|o| runtime::run(&o.sizes, o.runs, &o.out)),
        Some("replay") => options(&args[1..]).and_then(|o| replay::run(o.runs, &o.out)),
        Some("fanout") => fanout::run(&args[1..]),
        Some("fanout-child") => fanout::child(&args[1..]),
        _ => Err("usage: migrate-bench compile [--sizes 100,1000,5000] [--release-sizes 1000] [--runs 3] [--peers]\n       \
                  migrate-bench runtime [--sizes 100,1000] [--runs 3]\n       \
                  migrate-bench replay [--runs 3]\n       \
                  migrate-bench fanout [--schemas 1000] [--databases 50] [--migrations 20] [--jobs 1,4,16] [--memory-jobs 16] [--runs 3]"
            .to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One timed command: wall time and the peak resident memory of its largest process.
#[derive(Clone, Copy)]
struct Sample {
    time: Duration,
    peak_kib: Option<u64>,
}

fn median(samples: &mut [Sample]) -> Sample {
    samples.sort_by_key(|s| s.time);
    let mut peaks: Vec<u64> = samples.iter().filter_map(|s| s.peak_kib).collect();
    peaks.sort_unstable();
    Sample { time: samples[samples.len() / 2].time, peak_kib: peaks.get(peaks.len() / 2).copied() }
}

/// Runs cargo in `dir` and times it. GNU time, when present, reports the peak memory of the
/// largest process cargo waited for (rustc, the build script).
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<Sample, String> {
    let gnu_time = Path::new("/usr/bin/time");
    let peak_file = target.join("peak.txt");
    let mut command = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f").arg("%M").arg("-o").arg(&peak_file).arg("cargo");
        c
    } else {
        Command::new("cargo")
    };
    command.args(args).current_dir(dir).env("CARGO_TARGET_DIR", target).env_remove("RUSTFLAGS");
    let start = Instant::now();
    let output = command.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    let time = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed in {}:\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let peak_kib = std::fs::read_to_string(&peak_file).ok().and_then(|t| t.trim().parse().ok());
    Ok(Sample { time, peak_kib })
}

fn profile_args<'a>(release: bool, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = rest.to_vec();
    if release {
        args.push("--release");
    }
    args
}

struct Row {
    kind: Kind,
    size: usize,
    release: bool,
    full: Sample,
    add_one: Sample,
}

fn compile(options: &Options) -> Result<(), String> {
    let crates = options.out.join("crates");
    let target = options.out.join("target");
    std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
    let mut kinds = vec![Kind::Checked, Kind::Plain];
    if options.peers {
        kinds.push(Kind::Sqlx);
    }
    let mut rows = Vec::new();
    for &size in &options.sizes {
        for release in [false, true] {
            if release && !options.release_sizes.contains(&size) {
                continue;
            }
            for &kind in &kinds {
                eprintln!("{} N={size} {}…", kind.name(), if release { "release" } else { "debug" });
                let dir = generate_crate(&crates, kind, size)?;
                rows.push(measure(&dir, &target, kind, size, release, options.runs)?);
            }
        }
    }
    print_tables(&rows, options);
    check_scaling(&crates, options)?;
    Ok(())
}

fn measure(
    dir: &Path,
    target: &Path,
    kind: Kind,
    size: usize,
    release: bool,
    runs: usize,
) -> Result<Row, String> {
    let name = kind.crate_name(size);
    // sqlx is not in the workspace's lock file: its crate resolves online once.
    let build: &[&str] =
        if kind == Kind::Sqlx { &["build", "--quiet"] } else { &["build", "--quiet", "--offline"] };
    // Dependencies first, untimed.
    cargo(dir, target, &profile_args(release, build))?;
    let mut full = Vec::new();
    for _ in 0..runs {
        cargo(dir, target, &profile_args(release, &["clean", "--quiet", "--package", &name]))?;
        full.push(cargo(dir, target, &profile_args(release, build))?);
    }
    let mut add_one = Vec::new();
    for _ in 0..runs {
        let added = kind.add_migration(dir, size)?;
        add_one.push(cargo(dir, target, &profile_args(release, build))?);
        kind.remove_migration(dir, &added, size)?;
        cargo(dir, target, &profile_args(release, build))?;
    }
    Ok(Row { kind, size, release, full: median(&mut full), add_one: median(&mut add_one) })
}

fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn mib(sample: Sample) -> String {
    sample.peak_kib.map_or("n/a".to_owned(), |k| format!("{} MiB", k / 1024))
}

/// `a / b`, as the tables print ratios.
pub(crate) fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

/// The rows of one size and profile: checked, plain and, when run, sqlx.
type Group<'a> = (&'a Row, &'a Row, Option<&'a Row>);

fn print_tables(rows: &[Row], options: &Options) {
    let groups: Vec<Group<'_>> = rows
        .chunk_by(|a, b| a.size == b.size && a.release == b.release)
        .filter_map(|group| {
            let find = |kind| group.iter().find(|r| r.kind == kind);
            Some((find(Kind::Checked)?, find(Kind::Plain)?, find(Kind::Sqlx)))
        })
        .collect();
    let profile = |row: &Row| if row.release { "release" } else { "debug" };
    println!("## Build of the crate, dependencies already built (median of {} runs)\n", options.runs);
    println!(
        "| N | profile | checked (migrate) | plain modules | checked / plain | peak memory checked | peak memory plain |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (c, p, _) in &groups {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.size,
            profile(c),
            seconds(c.full.time),
            seconds(p.full.time),
            ratio(c.full.time, p.full.time),
            mib(c.full),
            mib(p.full)
        );
    }
    println!("\n## Rebuild after adding one migration (median of {} runs)\n", options.runs);
    println!(
        "| N | profile | checked (migrate) | plain modules | sqlx `migrate!` | checked / plain | checked / sqlx |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (c, p, sqlx) in &groups {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.size,
            profile(c),
            seconds(c.add_one.time),
            seconds(p.add_one.time),
            sqlx.map_or("not run".to_owned(), |s| seconds(s.add_one.time)),
            ratio(c.add_one.time, p.add_one.time),
            sqlx.map_or("–".to_owned(), |s| ratio(c.add_one.time, s.add_one.time))
        );
    }
}

/// Times reading and checking whole folders in process (optimised), to show how the check
/// alone grows with N.
fn check_scaling(crates: &Path, options: &Options) -> Result<(), String> {
    println!("\n## The whole-folder check alone, in process (optimised; median of {} runs)\n", options.runs);
    println!("| N | read + parse | rules (graph included) | rules per migration |");
    println!("|---|---|---|---|");
    let mut sizes = options.sizes.clone();
    sizes.extend([10_000, 20_000]);
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let dir = crates.join(format!("scaling-{size}"));
        let migrations = dir.join("migrations");
        if !migrations.join(migration_file(size - 1).0).exists() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
            for i in 0..size {
                let (name, text) = migration_file(i);
                std::fs::write(migrations.join(name), text).map_err(|e| e.to_string())?;
            }
        }
        let mut read = Vec::new();
        let mut check = Vec::new();
        for _ in 0..options.runs {
            let start = Instant::now();
            let folder =
                migrate_build::Folder::scan(&dir, Path::new("migrations")).map_err(|e| e.to_string())?;
            read.push(start.elapsed());
            let start = Instant::now();
            let diagnostics = folder.check(&migrate_core::Config::default()).diagnostics;
            check.push(start.elapsed());
            if !diagnostics.is_empty() {
                return Err(format!(
                    "the generated folder of {size} migrations has diagnostics: {diagnostics:?}"
                ));
            }
        }
        let (read, check) = (runtime::median(read), runtime::median(check));
        println!(
            "| {size} | {} | {} | {:.1} µs |",
            seconds(read),
            seconds(check),
            check.as_secs_f64() * 1e6 / size as f64
        );
    }
    Ok(())
}

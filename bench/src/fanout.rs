//! The fan-out benchmark: one chain of M migrations applied to many targets of one server —
//! N tenant schemas of one database, and D databases — by `Fleet` at several job counts,
//! beside a sequential loop of `Migrator::upgrade` and one psql process per target; then the
//! peak memory of a process running the fleet.
//!
//! It starts a cluster of its own with `max_connections = 100`, so that the limit the fleet
//! reads (and bounds its jobs by) is known. Every variant starts from fresh targets: a new
//! database with N empty schemas, or D databases whose `public` schema is dropped and created
//! again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migrate_runtime::testkit::{Cluster, ClusterSettings};
use migrate_runtime::{Body, Chain, Fleet, FleetReport, Migration, Migrator, TableNames, Target};

use crate::crates::{rev, write};
use crate::runtime::psql_binary;

struct Options {
    schemas: usize,
    databases: usize,
    migrations: usize,
    jobs: Vec<usize>,
    memory_jobs: usize,
    runs: usize,
    out: PathBuf,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        schemas: 1000,
        databases: 50,
        migrations: 20,
        jobs: vec![1, 4, 16],
        memory_jobs: 16,
        runs: 3,
        out: crate::crates::workspace().join("target").join("bench").join("fanout"),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        let mut number = |name: &str| -> Result<usize, String> {
            value()?.parse().map_err(|_| format!("`{name}` takes a number"))
        };
        match arg.as_str() {
            "--schemas" => options.schemas = number("--schemas")?,
            "--databases" => options.databases = number("--databases")?,
            "--migrations" => options.migrations = number("--migrations")?,
            "--memory-jobs" => options.memory_jobs = number("--memory-jobs")?,
            "--runs" => options.runs = number("--runs")?.max(1),
            "--jobs" => options.jobs = crate::parse_sizes(value()?)?,
            "--out" => options.out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.migrations == 0 {
        return Err("`--migrations` must be at least 1".to_owned());
    }
    Ok(options)
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn create_table(i: usize) -> String {
    format!("CREATE TABLE t_{i} (id integer NOT NULL, v text)")
}

fn create_index(i: usize) -> String {
    format!("CREATE INDEX t_{i}_id ON t_{i} (id)")
}

/// The chain of `size` migrations, built at run time and leaked: migration `i` creates table
/// `t_i` and an index on it (unqualified names: they land in the first schema of the
/// `search_path`); its downgrade drops the table.
fn chain(size: usize) -> Chain {
    let mut migrations: Vec<&'static Migration> = Vec::with_capacity(size);
    for i in 0..size {
        let parents: &'static [&'static str] = match migrations.last() {
            Some(previous) => Box::leak(vec![previous.rev].into_boxed_slice()),
            None => &[],
        };
        let upgrade: &'static [&'static str] =
            Box::leak(vec![leak(create_table(i)), leak(create_index(i))].into_boxed_slice());
        let downgrade: &'static [&'static str] =
            Box::leak(vec![leak(format!("DROP TABLE t_{i}"))].into_boxed_slice());
        migrations.push(Box::leak(Box::new(Migration {
            rev: leak(rev(i)),
            parents,
            branch_labels: &[],
            depends_on: &[],
            slug: leak(format!("fanout_table_{i}")),
            file: leak(format!("migrations/{}_fanout_table_{i}.rs", rev(i))),
            why: "",
            transactional: true,
            squashes: None,
            upgrade: Body::Sql(upgrade),
            downgrade: Body::Sql(downgrade),
        })));
    }
    Chain::new(Box::leak(migrations.into_boxed_slice()))
}

/// The psql floor: `search_path` set to the psql variable `schema` then `public`, the
/// version table, and each migration's statements with its version row in a transaction
/// of its own.
fn floor_script(dir: &Path, size: usize) -> Result<PathBuf, String> {
    let mut script = String::from(
        "SET search_path = :\"schema\", public;\nCREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);\n",
    );
    for i in 0..size {
        let version = if i == 0 {
            format!("INSERT INTO alembic_version VALUES ('{}')", rev(i))
        } else {
            format!("UPDATE alembic_version SET version_num = '{}'", rev(i))
        };
        script.push_str(&format!(
            "BEGIN;\n{};\n{};\n{version};\nCOMMIT;\n",
            create_table(i),
            create_index(i)
        ));
    }
    let path = dir.join(format!("floor_{size}.sql"));
    write(&path, &script)?;
    Ok(path)
}

fn schema_name(i: usize) -> String {
    format!("tenant_{i:04}")
}

fn database_name(i: usize) -> String {
    format!("fanout_db_{i:03}")
}

const SCHEMAS_DATABASE: &str = "fanout_schemas";

fn admin(cluster: &Cluster, database: &str) -> Result<postgres::Client, String> {
    postgres::Client::connect(&cluster.url(database), postgres::NoTls)
        .map_err(|e| format!("cannot connect to {database}: {e}"))
}

fn execute(client: &mut postgres::Client, sql: &str) -> Result<(), String> {
    client.batch_execute(sql).map_err(|e| format!("{sql:.80}: {e}"))
}

/// A new database `fanout_schemas` with `schemas` empty schemas.
fn fresh_schemas(cluster: &Cluster, schemas: usize) -> Result<(), String> {
    let mut postgres = admin(cluster, "postgres")?;
    execute(&mut postgres, &format!("DROP DATABASE IF EXISTS {SCHEMAS_DATABASE} WITH (FORCE)"))?;
    execute(&mut postgres, &format!("CREATE DATABASE {SCHEMAS_DATABASE}"))?;
    let mut client = admin(cluster, SCHEMAS_DATABASE)?;
    let sql: String = (0..schemas).map(|i| format!("CREATE SCHEMA {};\n", schema_name(i))).collect();
    execute(&mut client, &sql)
}

/// Creates the `databases` databases, once.
fn create_databases(cluster: &Cluster, databases: usize) -> Result<(), String> {
    let mut postgres = admin(cluster, "postgres")?;
    for i in 0..databases {
        let name = database_name(i);
        execute(&mut postgres, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        execute(&mut postgres, &format!("CREATE DATABASE {name}"))?;
    }
    Ok(())
}

/// Empties the databases: their `public` schema (tables and version tables) dropped and
/// created again.
fn reset_databases(cluster: &Cluster, databases: usize) -> Result<(), String> {
    for i in 0..databases {
        let mut client = admin(cluster, &database_name(i))?;
        execute(&mut client, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")?;
    }
    Ok(())
}

fn drop_databases(cluster: &Cluster, databases: usize) -> Result<(), String> {
    let mut postgres = admin(cluster, "postgres")?;
    for i in 0..databases {
        execute(&mut postgres, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", database_name(i)))?;
    }
    execute(&mut postgres, &format!("DROP DATABASE IF EXISTS {SCHEMAS_DATABASE} WITH (FORCE)"))
}

/// How many `t_*` tables the targets hold, to check a variant did its work.
fn count_tables(cluster: &Cluster, databases: &[String]) -> Result<usize, String> {
    let mut total = 0;
    for database in databases {
        let mut client = admin(cluster, database)?;
        let row = client
            .query_one("SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename LIKE 't\\_%'", &[])
            .map_err(|e| e.to_string())?;
        total += usize::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    }
    Ok(total)
}

/// One way of migrating every target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Fleet(usize),
    Loop,
    Psql,
}

impl Variant {
    fn name(self) -> String {
        match self {
            Variant::Fleet(jobs) => format!("`Fleet`, jobs {jobs}"),
            Variant::Loop => "sequential loop of `Migrator::upgrade`".to_owned(),
            Variant::Psql => "floor: one psql process per target".to_owned(),
        }
    }
}

/// What the targets are: schemas of one database, or databases.
#[derive(Clone, Copy)]
enum Kind {
    Schemas,
    Databases,
}

/// The migrator of one target, as `Fleet` configures it for a schema.
fn schema_migrator(base: &Migrator, schema: &str) -> Migrator {
    base.clone()
        .tables(TableNames::new(schema, "alembic_version", "migrate_history"))
        .search_path(&[schema, "public"])
}

fn check_fleet(report: &FleetReport) -> Result<(), String> {
    if let Some(failed) =
        report.targets.iter().find(|t| !matches!(t.outcome, migrate_runtime::Outcome::Done(_)))
    {
        return Err(format!("the fleet failed on {}: {}", failed.target, failed.outcome));
    }
    Ok(())
}

/// Runs `variant` on the targets (already fresh) and times it; returns the time and, for a
/// fleet, the jobs it ran with.
fn run_variant(
    variant: Variant,
    kind: Kind,
    urls: &[(String, String)],
    chain: &Chain,
    script: &Path,
    psql: &Path,
) -> Result<(Duration, Option<usize>), String> {
    let base = Migrator::new(chain);
    match variant {
        Variant::Fleet(jobs) => {
            let targets: Vec<Target> = urls
                .iter()
                .map(|(url, schema)| match kind {
                    Kind::Schemas => Target::schema(url, schema),
                    Kind::Databases => Target::database(url),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            let fleet = Fleet::new(base).jobs(jobs);
            let start = Instant::now();
            let report = fleet.upgrade(&targets, "head").map_err(|e| e.to_string())?;
            let time = start.elapsed();
            check_fleet(&report)?;
            let each: Vec<Duration> = report.targets.iter().map(|t| t.duration).collect();
            eprintln!("  {}", spread(&each));
            Ok((time, Some(report.jobs)))
        }
        Variant::Loop => {
            let start = Instant::now();
            let mut each = Vec::with_capacity(urls.len());
            for (url, schema) in urls {
                let one = Instant::now();
                let result = match kind {
                    Kind::Schemas => schema_migrator(&base, schema).upgrade(url.as_str(), "head"),
                    Kind::Databases => base.upgrade(url.as_str(), "head"),
                };
                result.map_err(|e| format!("{url} {schema}: {e}"))?;
                each.push(one.elapsed());
            }
            let time = start.elapsed();
            eprintln!("  {}", spread(&each));
            Ok((time, None))
        }
        Variant::Psql => {
            let start = Instant::now();
            for (url, schema) in urls {
                let output = Command::new(psql)
                    .args(["-v", "ON_ERROR_STOP=1", "-q", "-X", "-v"])
                    .arg(format!("schema={schema}"))
                    .arg("-d")
                    .arg(url)
                    .arg("-f")
                    .arg(script)
                    .output()
                    .map_err(|e| format!("cannot run psql: {e}"))?;
                if !output.status.success() {
                    return Err(format!(
                        "psql failed on {url} {schema}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
            Ok((start.elapsed(), None))
        }
    }
}

/// The time per target, for the log: mean over the first and the last tenth of the targets,
/// and the sum (beside the wall time, it shows the overlap).
fn spread(each: &[Duration]) -> String {
    let tenth = (each.len() / 10).max(1);
    let mean = |part: &[Duration]| {
        part.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / part.len().max(1) as f64
    };
    format!(
        "per target: first tenth {:.1} ms, last tenth {:.1} ms, sum {:.2} s",
        mean(&each[..tenth.min(each.len())]),
        mean(&each[each.len().saturating_sub(tenth)..]),
        each.iter().map(Duration::as_secs_f64).sum::<f64>()
    )
}

struct Measured {
    variant: Variant,
    times: Vec<Duration>,
    /// The time of the sequential loop of the same run, for each time.
    loops: Vec<Duration>,
    jobs: Option<usize>,
}

fn range(values: &[f64], format: impl Fn(f64) -> String, unit: &str) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.len() == 1 || format(min) == format(max) {
        format!("{}{unit}", format(min))
    } else {
        format!("{}–{}{unit}", format(min), format(max))
    }
}

/// Runs every variant `runs` times, interleaved, each from fresh targets.
fn measure(
    cluster: &Cluster,
    kind: Kind,
    count: usize,
    options: &Options,
    chain: &Chain,
    script: &Path,
    psql: &Path,
) -> Result<Vec<Measured>, String> {
    let (urls, databases): (Vec<(String, String)>, Vec<String>) = match kind {
        Kind::Schemas => (
            (0..count).map(|i| (cluster.url(SCHEMAS_DATABASE), schema_name(i))).collect(),
            vec![SCHEMAS_DATABASE.to_owned()],
        ),
        Kind::Databases => (
            (0..count).map(|i| (cluster.url(&database_name(i)), "public".to_owned())).collect(),
            (0..count).map(database_name).collect(),
        ),
    };
    let mut variants: Vec<Variant> = options.jobs.iter().map(|&j| Variant::Fleet(j)).collect();
    variants.push(Variant::Loop);
    variants.push(Variant::Psql);
    let mut measured: Vec<Measured> = variants
        .iter()
        .map(|&variant| Measured { variant, times: vec![], loops: vec![], jobs: None })
        .collect();
    let label = match kind {
        Kind::Schemas => "schemas",
        Kind::Databases => "databases",
    };
    if let Kind::Databases = kind {
        create_databases(cluster, count)?;
    }
    for run in 0..options.runs {
        // Rotate the order from run to run, so that no variant always comes first.
        let order: Vec<usize> = (0..variants.len()).map(|k| (k + run) % variants.len()).collect();
        let mut times = vec![Duration::ZERO; variants.len()];
        for k in order {
            match kind {
                Kind::Schemas => fresh_schemas(cluster, count)?,
                Kind::Databases => reset_databases(cluster, count)?,
            }
            let (time, jobs) = run_variant(variants[k], kind, &urls, chain, script, psql)?;
            let tables = count_tables(cluster, &databases)?;
            if tables != count * options.migrations {
                return Err(format!(
                    "{}: {tables} tables, expected {}",
                    variants[k].name(),
                    count * options.migrations
                ));
            }
            eprintln!(
                "fanout {count} {label}, run {}: {} {:.2} s (load average after: {})",
                run + 1,
                variants[k].name(),
                time.as_secs_f64(),
                std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
            );
            times[k] = time;
            if jobs.is_some() {
                measured[k].jobs = jobs;
            }
        }
        let looped = times[variants.iter().position(|&v| v == Variant::Loop).unwrap_or(0)];
        for (m, time) in measured.iter_mut().zip(times) {
            m.times.push(time);
            m.loops.push(looped);
        }
    }
    if let Kind::Databases = kind {
        drop_databases(cluster, count)?;
    }
    Ok(measured)
}

fn print_table(title: &str, count: usize, measured: &[Measured], runs: usize) {
    println!("## {title} ({runs} interleaved runs: range)\n");
    println!("| variant | jobs run | wall time | targets/s | time / sequential loop |");
    println!("|---|---|---|---|---|");
    for m in measured {
        let secs: Vec<f64> = m.times.iter().map(Duration::as_secs_f64).collect();
        let rates: Vec<f64> = secs.iter().map(|s| count as f64 / s.max(1e-9)).collect();
        let ratios: Vec<f64> =
            m.times.iter().zip(&m.loops).map(|(t, l)| t.as_secs_f64() / l.as_secs_f64().max(1e-9)).collect();
        println!(
            "| {} | {} | {} | {} | {} |",
            m.variant.name(),
            m.jobs.map_or("–".to_owned(), |j| j.to_string()),
            range(&secs, |s| format!("{s:.2}"), " s"),
            range(&rates, |r| format!("{r:.0}"), ""),
            range(&ratios, |r| format!("{r:.2}"), "×")
        );
    }
    println!();
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The child process of the memory measure: `fanout-child <url> <schemas> <migrations>
/// <jobs|loop>` migrates the schemas of `url` and prints `rss_before hwm rss_after seconds`.
pub(crate) fn child(args: &[String]) -> Result<(), String> {
    let [url, schemas, migrations, mode] = args else {
        return Err("usage: migrate-bench fanout-child <url> <schemas> <migrations> <jobs|loop>".to_owned());
    };
    let number = |s: &String| s.parse::<usize>().map_err(|_| format!("not a number: `{s}`"));
    let chain = chain(number(migrations)?);
    let schemas: Vec<String> = (0..number(schemas)?).map(schema_name).collect();
    let (before, _) = memory();
    let start = Instant::now();
    if mode == "loop" {
        let base = Migrator::new(&chain);
        for schema in &schemas {
            schema_migrator(&base, schema)
                .upgrade(url.as_str(), "head")
                .map_err(|e| format!("{schema}: {e}"))?;
        }
    } else {
        let targets: Vec<Target> = schemas
            .iter()
            .map(|s| Target::schema(url, s))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let report = Fleet::new(Migrator::new(&chain)).jobs(number(mode)?).upgrade(&targets, "head");
        check_fleet(&report.map_err(|e| e.to_string())?)?;
    }
    let time = start.elapsed();
    let (after, hwm) = memory();
    println!("{before} {hwm} {after} {:.3}", time.as_secs_f64());
    Ok(())
}

/// Runs the child of the memory measure on fresh schemas: (RSS before, peak, RSS after) in
/// KiB, and its run's time.
fn memory_run(cluster: &Cluster, options: &Options, mode: &str) -> Result<([u64; 3], f64), String> {
    fresh_schemas(cluster, options.schemas)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .arg("fanout-child")
        .arg(cluster.url(SCHEMAS_DATABASE))
        .arg(options.schemas.to_string())
        .arg(options.migrations.to_string())
        .arg(mode)
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    if !output.status.success() {
        return Err(format!("the child failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    let parse = |i: usize| {
        words.get(i).and_then(|w| w.parse::<u64>().ok()).ok_or_else(|| format!("child said `{text}`"))
    };
    let seconds =
        words.get(3).and_then(|w| w.parse::<f64>().ok()).ok_or_else(|| format!("child said `{text}`"))?;
    Ok(([parse(0)?, parse(1)?, parse(2)?], seconds))
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let psql = psql_binary()?;
    std::fs::create_dir_all(&options.out).map_err(|e| e.to_string())?;
    let script = floor_script(&options.out, options.migrations)?;
    let chain = chain(options.migrations);
    eprintln!("fanout: starting a cluster with max_connections = 100…");
    let cluster = Cluster::start_with(&ClusterSettings::default().conf("max_connections = 100"))
        .map_err(|e| e.to_string())?;
    let m = options.migrations;
    if options.schemas > 0 {
        let measured = measure(&cluster, Kind::Schemas, options.schemas, &options, &chain, &script, &psql)?;
        print_table(
            &format!("Fan-out: {} schemas of one database × {m} migrations", options.schemas),
            options.schemas,
            &measured,
            options.runs,
        );
    }
    if options.databases > 0 {
        let measured =
            measure(&cluster, Kind::Databases, options.databases, &options, &chain, &script, &psql)?;
        print_table(
            &format!("Fan-out: {} databases × {m} migrations", options.databases),
            options.databases,
            &measured,
            options.runs,
        );
    }
    if options.schemas > 0 && options.memory_jobs > 0 {
        println!(
            "## Memory of a process migrating {} schemas × {m} migrations (a child process each)\n",
            options.schemas
        );
        println!("| run in the child | RSS before the run | peak (VmHWM) | RSS after | wall time |");
        println!("|---|---|---|---|---|");
        let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
        for mode in [options.memory_jobs.to_string(), "loop".to_owned()] {
            let ([before, hwm, after], seconds) = memory_run(&cluster, &options, &mode)?;
            let name = if mode == "loop" {
                Variant::Loop.name()
            } else {
                Variant::Fleet(options.memory_jobs).name()
            };
            println!("| {name} | {} | {} | {} | {seconds:.2} s |", mib(before), mib(hwm), mib(after));
        }
        println!();
    }
    let mut postgres = admin(&cluster, "postgres")?;
    execute(&mut postgres, &format!("DROP DATABASE IF EXISTS {SCHEMAS_DATABASE} WITH (FORCE)"))?;
    Ok(())
}

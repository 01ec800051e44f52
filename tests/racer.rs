//! Runs one upgrade of a fixture chain, for the tests that need separate processes: several
//! migrators racing, processes killed in the middle of a migration.
//!
//! `migrate-racer <chain> <database url> <target>`; prints the revisions it applied.
//! `migrate-racer cli <arguments>` runs the embedded command line over the `diamond` chain,
//! `migrate-racer cli-slow <arguments>` over the `slow` one. The
//! session's application name is `racer-<pid>`, so a test can find which process holds the
//! lock. `RACER_NO_LOCK=1` runs without the migration lock, `RACER_LEASE=1` holds it as a
//! lease (`RACER_LEASE_TTL_MS=<n>` and `RACER_NO_LIVENESS=1`: one that only expires);
//! `RACER_PAUSE_MS=<n>` pauses after each step.

use std::process::ExitCode;
use std::time::Duration;

use migrate_runtime::{Chain, Migrator, StepReport};

static CRM: Chain = migrate_runtime::embed_migrations!("crm");
static SLOW: Chain = migrate_runtime::embed_migrations!("slow");
static FAULTS: Chain = migrate_runtime::embed_migrations!("faults");
static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");

fn pause(_: &StepReport) {
    let ms = std::env::var("RACER_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    std::thread::sleep(Duration::from_millis(ms));
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("cli") => return migrate_runtime::cli::run_with_args(&DIAMOND, &args[1..]),
        Some("cli-slow") => return migrate_runtime::cli::run_with_args(&SLOW, &args[1..]),
        _ => {}
    }
    let [chain, url, target] = args.as_slice() else {
        eprintln!("usage: migrate-racer <crm|slow|faults> <database url> <target>");
        return ExitCode::FAILURE;
    };
    let chain = match chain.as_str() {
        "crm" => &CRM,
        "slow" => &SLOW,
        "faults" => &FAULTS,
        other => {
            eprintln!("unknown chain `{other}`");
            return ExitCode::FAILURE;
        }
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}application_name=racer-{}", std::process::id());
    let set = |name: &str| std::env::var(name).is_ok();
    let mut migrator = Migrator::new(chain)
        .lock(!set("RACER_NO_LOCK"))
        .lease_lock(set("RACER_LEASE"))
        .lease_liveness(!set("RACER_NO_LIVENESS"))
        .on_step(pause);
    if let Some(ms) = std::env::var("RACER_LEASE_TTL_MS").ok().and_then(|v| v.parse().ok()) {
        migrator = migrator.lease_ttl(Duration::from_millis(ms));
    }
    match migrator.upgrade(&url, target) {
        Ok(report) => {
            for step in report.steps {
                println!("{}", step.rev);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", error.report());
            ExitCode::FAILURE
        }
    }
}

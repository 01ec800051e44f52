//! The guide's CRM backend: a small HTTP API over PostgreSQL whose schema history is embedded,
//! checked at build time, and applied at start-up, under the migration lock, before serving.
//!
//! - `crm-backend`: migrates, then serves on `127.0.0.1:$PORT` (default 8080);
//! - `crm-backend migrate <command>`: the database commands (`upgrade head`, `downgrade -1`,
//!   `current`, `check`, …), for an entrypoint that migrates in a step of its own.
//!
//! The database is `DATABASE_URL`; without it, a throwaway PostgreSQL started from the
//! machine's binaries, removed when the process ends.

mod api;

use std::process::ExitCode;

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Migrator, StepReport};

/// The CRM's schema history, checked and linearized at build time.
static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

fn progress(step: &StepReport) {
    println!("  applied {} {} ({:.1} ms)", step.rev, step.slug, step.duration.as_secs_f64() * 1e3);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("migrate") {
        return migrate_runtime::cli::run_with_args(&MIGRATIONS, &args[2..]);
    }
    // Without DATABASE_URL, a database of the throwaway server, for the life of the process.
    let throwaway;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => match TestDatabase::new() {
            Ok(database) => {
                throwaway = database;
                println!("no DATABASE_URL: using a throwaway PostgreSQL ({})", throwaway.name());
                throwaway.url().to_owned()
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        },
    };
    println!("migrating…");
    let report = match Migrator::new(&MIGRATIONS).on_step(progress).upgrade(&url, "head") {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("database at {} ({} applied now)", report.after.join(", "), report.steps.len());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    match api::serve(&url, port, &MIGRATIONS) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

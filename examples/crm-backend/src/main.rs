//! The guide's CRM backend. It embeds its migrations, checked at build time, and applies
//! them at start-up: to `DATABASE_URL`, or, without one, to a throwaway PostgreSQL started
//! from the machine's binaries (the test kit's, removed when the process ends).

use std::process::ExitCode;

use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Migrator};

/// The CRM's schema history, checked and linearized at build time.
static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

fn main() -> ExitCode {
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
    let migrator = Migrator::new(&MIGRATIONS);
    match migrator.upgrade(&url, "head") {
        Ok(report) => {
            for step in &report.steps {
                let migration = MIGRATIONS.get(step.rev).map_or("", |m| m.why);
                println!("applied {} {} in {:?}: {migration}", step.rev, step.slug, step.duration);
            }
            println!(
                "database at {} ({} migrations applied now, {} round trips)",
                report.after.join(", "),
                report.steps.len(),
                report.round_trips
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

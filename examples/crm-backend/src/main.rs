//! The guide's CRM backend, as Rust teams write one: axum on tokio over a pool of PostgreSQL
//! connections, whose schema history is embedded, checked at build time, and applied at
//! start-up through the asynchronous API, under the migration lock, before serving.
//!
//! - `crm-backend`: migrates, then serves on `$HOST:$PORT` (default `127.0.0.1:8080`);
//! - `crm-backend migrate <command>`: the database commands (`upgrade head`, `downgrade -1`,
//!   `current`, `check`, …), for an entrypoint that migrates in a step of its own (the
//!   container recipe of the README runs `crm-backend migrate upgrade head` first, as the
//!   guide runs `alembic upgrade head`).
//!
//! The database is `DATABASE_URL`; without it, a throwaway PostgreSQL started from the
//! machine's binaries, removed when the process ends.

mod api;

use std::process::ExitCode;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::tokio_postgres::{Config, NoTls};
use migrate_runtime::{Chain, Migrator, StepReport};

/// The CRM's schema history, checked and linearized at build time.
static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

fn progress(step: &StepReport) {
    println!("  applied {} {} ({:.1} ms)", step.rev, step.slug, step.duration.as_secs_f64() * 1e3);
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("migrate") {
        return migrate_runtime::cli::run_with_args(&MIGRATIONS, &args[2..]);
    }
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    // Without DATABASE_URL, a database of the throwaway server, for the life of the process.
    let throwaway;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            throwaway = TestDatabase::new().map_err(|e| e.to_string())?;
            println!("no DATABASE_URL: using a throwaway PostgreSQL ({})", throwaway.name());
            throwaway.url().to_owned()
        }
    };
    let config: Config = url.parse().map_err(|_| "DATABASE_URL cannot be read".to_owned())?;
    let manager =
        Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let pool = Pool::builder(manager).max_size(8).build().map_err(|e| e.to_string())?;

    // Migrate before serving, on a connection of the pool: the run holds the migration lock
    // in that session, and gives the connection back as it found it.
    println!("migrating…");
    let client = pool.get().await.map_err(|e| format!("cannot connect: {e}"))?;
    let report = Migrator::new(&MIGRATIONS)
        .on_step(progress)
        .upgrade_async(&**client, "head")
        .await
        .map_err(|e| e.report())?;
    drop(client);
    println!("database at {} ({} applied now)", report.after.join(", "), report.steps.len());

    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    println!("listening on http://{host}:{port} (GET /health, POST /organisations, GET|POST /interactions)");
    axum::serve(listener, api::router(pool, Migrator::new(&MIGRATIONS)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

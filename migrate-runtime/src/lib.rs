//! Migrations checked at build time and replayed on PostgreSQL.
//!
//! A migration is a Rust module marked `#[migration(rev = "…", down_revision = "…")]` in
//! its own file of the crate's `migrations/` folder. The build script line
//! `migrate_build::compile()` checks the whole folder (revision graph, names, hygiene) and
//! every problem becomes a compiler error under the offending token; what compiles is the
//! checked chain, in a deterministic order, which [`embed_migrations!`] embeds:
//!
//! ```ignore
//! static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!();
//!
//! for migration in MIGRATIONS.iter() {
//!     println!("{} {}: {}", migration.rev, migration.slug, migration.why);
//! }
//! ```
//!
//! [`Migrator`] replays it on PostgreSQL, synchronously or (feature `tokio`) on the caller's
//! tokio runtime, on a database it connects to ([`IntoDatabase`]: a connection string with
//! libpq's TLS options, a [`Database`], a `tokio_postgres::Config`) or on a connection the
//! caller lends ([`IntoConnection`]):
//!
//! ```ignore
//! let report = Migrator::new(&MIGRATIONS).upgrade(&database_url, "head")?;
//! let report = Migrator::new(&MIGRATIONS).upgrade_async(&**pool.get().await?, "head").await?;
//! ```
//!
//! Errors ([`Error`]) display on one line; [`Error::help`] says what to do, and
//! [`Error::report`] renders both as the command line prints them. Feature `testkit` adds a
//! throwaway PostgreSQL and the stairway check for tests (module `testkit`); feature `cli` the
//! database commands inside a binary (module `cli`).

mod backup;
pub mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
mod connect;
mod diagnose;
mod engine;
mod error;
mod fleet;
mod newer;
mod plan;
mod runner;
mod session;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use connect::Database;
pub use engine::Engine;
pub use error::{Cause, Error, Failure, Mismatch, Unfinished, Unrecorded};
pub use fleet::{Fleet, FleetReport, Outcome, Target, TargetReport};
pub use migrate_core::chain::{Body, Chain, Migration};
pub use migrate_core::target::TargetError;
pub use migrate_core::version::Direction;
pub use migrate_macros::{embed_migrations, migration};
pub use runner::{Changes, DEFAULT_LEASE_TTL, HistoryEntry, Migrator, Report, StepReport, TableNames};
pub use session::{IntoConnection, IntoDatabase};
/// The PostgreSQL driver the asynchronous API runs on, for its `Client` and `Config`.
#[cfg(feature = "tokio")]
pub use tokio_postgres;

/// What a migration imports: `use migrate_runtime::prelude::*;`.
pub mod prelude {
    pub use migrate_core::op::{Action, Op, Type, Value, sql};
    pub use std::time::Duration;
}

/// The operations and their SQL, for code that inspects a migration.
pub mod op {
    pub use migrate_core::op::*;
}

/// What generated code uses; not a public API.
#[doc(hidden)]
pub mod __private {
    use migrate_core::chain::Chain;
    pub use migrate_core::chain::{Body, Migration};
    use migrate_core::op::Op;

    /// The chain of the generated module.
    pub const fn chain(migrations: &'static [&'static Migration]) -> Chain {
        Chain::new(migrations)
    }

    /// Stands in for the functions of a migration that failed to compile.
    pub fn unavailable(_: &mut Op) {}
}

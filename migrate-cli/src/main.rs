//! `cargo migrate`: the daily commands of the migration workflow.
//!
//! Source commands work on the files, without a database: `revision`, `merge`, `heads`,
//! `history`, `show`, `check`, `import`. Database commands (`current`, `upgrade`, `downgrade`, `stamp`,
//! `check --db`, `test`, `accept`) build a migrator from the crate's migrations folder, cached
//! under `target/migrate/`, and run it; it reads `DATABASE_URL` from the environment, from
//! `./.env`, or from `--database-url`.
//!
//! Exit codes: 0 done; 1 a check found problems (rules, a database not at its heads, broken
//! downgrades) or a command was refused (a vague name, several heads); 2 the command line is
//! wrong; 3 the command failed.

// The doc comments of the command-line types are clap's help text, read on a terminal, where
// `<rev>` is a placeholder, not HTML.
#![allow(rustdoc::invalid_html_tags)]

/// `print!` that returns the error of a closed stdout instead of panicking: `main` ends
/// quietly when the reader went away (`cargo migrate history | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `println!`, as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod check;
mod import;
mod migrator;
mod project;
mod revision;
mod time;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migrate_core::listing::Listing;
use migrate_core::text::without_connection_strings;

use crate::project::{History, Project};
use crate::revision::Refused;

const EXIT_PROBLEMS: u8 = 1;
const EXIT_FAILED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "cargo migrate",
    bin_name = "cargo migrate",
    version,
    about = "PostgreSQL migrations checked at build time"
)]
struct Cli {
    /// The crate's Cargo.toml (default: the nearest above the current folder).
    #[arg(long, global = true)]
    manifest_path: Option<PathBuf>,
    /// Print JSON (heads, history, show, check, current).
    #[arg(long, global = true)]
    json: bool,
    /// The database, for database commands (else DATABASE_URL, else DATABASE_URL in ./.env).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a migration following the head: migrations/YYYYMMDD_HHMM_<rev>_<slug>.rs.
    Revision {
        /// The slug: what changes, in snake_case, such as add_lead_scores_table.
        #[arg(short, long)]
        message: String,
    },
    /// Create a migration merging heads (all of them by default).
    Merge {
        /// The slug of the merge.
        #[arg(short, long)]
        message: String,
        /// The heads to merge.
        revs: Vec<String>,
    },
    /// Import a Diesel, sqlx or refinery history into the empty migrations folder.
    Import {
        /// The tool the history was written for.
        #[arg(long)]
        from: import::Tool,
        /// Its migrations folder.
        dir: PathBuf,
    },
    /// The heads of the history.
    Heads,
    /// The history, newest first (with --db, marked applied or pending).
    History {
        /// Full entries.
        #[arg(long, short)]
        verbose: bool,
        /// A range START:END (either side may be empty).
        #[arg(long, short)]
        range: Option<String>,
        /// Mark what the database has applied.
        #[arg(long)]
        db: bool,
    },
    /// One revision in full.
    Show {
        /// A revision, a prefix or head.
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
    /// Every compile-time rule over the folder; with --db, whether the database is at the heads.
    Check {
        /// Check the database instead: exit 1 unless it is at the heads (for deploy gates).
        #[arg(long)]
        db: bool,
    },
    /// The database's current revisions.
    Current,
    /// Apply migrations up to TARGET (head, heads, +N, a revision or a prefix, <rev>+N).
    Upgrade {
        /// Where to go.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it; TARGET may be a range FROM:TO (from base otherwise).
        #[arg(long)]
        sql: bool,
        /// Run every migration of the run in one transaction.
        #[arg(long)]
        one_transaction: bool,
    },
    /// Revert migrations down to TARGET (-N, base, a revision or a prefix, head-N).
    Downgrade {
        /// Where to go.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it; TARGET must then be a range FROM:TO.
        #[arg(long)]
        sql: bool,
    },
    /// Set the version rows without running migrations.
    Stamp {
        /// The revisions (or base, head, heads).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Delete every version row first, unknown ones too.
        #[arg(long)]
        purge: bool,
    },
    /// Apply, revert and re-apply every migration on a throwaway database, comparing schemas.
    Test,
    /// Record the checksum applied migrations render now (after an edit that changes nothing).
    Accept {
        /// The revisions.
        #[arg(required = true)]
        revs: Vec<String>,
    },
}

fn main() -> ExitCode {
    // As a cargo subcommand, the program is called as `cargo-migrate migrate …`.
    let Ok(mut args) = std::env::args_os().map(|a| a.into_string()).collect::<Result<Vec<String>, _>>()
    else {
        let _ = writeln!(
            std::io::stderr(),
            "error: an argument is not valid UTF-8 (not shown: it may hold a password)"
        );
        return ExitCode::from(2);
    };
    if args.get(1).map(String::as_str) == Some("migrate") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            let _ = write!(
                std::io::stderr(),
                "{}",
                without_connection_strings(&error.render().to_string(), &args)
            );
            return ExitCode::from(2);
        }
        Err(error) => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
    };
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                without_connection_strings(&format!("{error:#}"), &args)
            );
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// The arguments of a database command for the migrator's embedded command line.
fn migrator_args(cli: &Cli) -> Vec<String> {
    let mut args = Vec::new();
    if cli.json {
        args.push("--json".to_owned());
    }
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match &cli.command {
        Command::Current => args.push("current".into()),
        Command::Check { .. } => args.push("check".into()),
        Command::Test => args.push("test".into()),
        Command::Upgrade { target, sql, one_transaction } => {
            args.extend(words(&["upgrade", target]));
            if *sql {
                args.push("--sql".into());
            }
            if *one_transaction {
                args.push("--one-transaction".into());
            }
        }
        Command::Downgrade { target, sql } => {
            args.extend(words(&["downgrade", target]));
            if *sql {
                args.push("--sql".into());
            }
        }
        Command::Stamp { targets, purge } => {
            args.push("stamp".into());
            args.extend(targets.iter().cloned());
            if *purge {
                args.push("--purge".into());
            }
        }
        Command::Accept { revs } => {
            args.push("accept".into());
            args.extend(revs.iter().cloned());
        }
        Command::History { verbose, range, .. } => {
            args.push("history".into());
            if *verbose {
                args.push("--verbose".into());
            }
            if let Some(range) = range {
                args.extend(["--range".to_owned(), range.clone()]);
            }
        }
        _ => {}
    }
    args
}

fn refused(result: Result<String, Refused>) -> std::io::Result<u8> {
    match result {
        Ok(path) => {
            outln!("created {path}")?;
            outln!("now say why in its doc comment, write upgrade and downgrade, and review it")?;
            Ok(0)
        }
        Err(Refused(message)) => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
            Ok(EXIT_PROBLEMS)
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<u8> {
    let project = Project::find(cli.manifest_path.as_deref())?;
    let json = cli.json;
    Ok(match &cli.command {
        Command::Revision { message } => refused(revision::revision(&project, message)?)?,
        Command::Merge { message, revs } => refused(revision::merge(&project, message, revs)?)?,
        Command::Import { from, dir } => {
            let imported = import::import(&project, *from, dir)?;
            outln!(
                "imported {} migrations into {} ({} outside a transaction, {} without a downgrade)",
                imported.count,
                project.settings.folder.display(),
                imported.outside_transaction,
                imported.irreversible
            )?;
            for skipped in &imported.skipped {
                outln!("skipped {skipped}, as the source tool does")?;
            }
            outln!(
                "set start_after = \"{}\" in Cargo.toml: the style rules apply to the migrations after it",
                imported.last
            )?;
            0
        }
        Command::Check { db: false } => {
            if check::check(&project, json)? {
                0
            } else {
                EXIT_PROBLEMS
            }
        }
        Command::Heads | Command::Show { .. } | Command::History { db: false, .. } => {
            let folder = project.scan()?;
            let history = History::of(&folder);
            let listing = Listing::new(&history.graph, &history.entries, None);
            let nodes = match &cli.command {
                Command::Heads => history.graph.heads(),
                Command::Show { rev } => history.graph.resolve_str(rev, &history.graph.heads())?,
                Command::History { range, .. } => listing.range(range.as_deref())?,
                _ => Vec::new(),
            };
            if json {
                out!("{}", listing.json_array(&nodes))?;
            } else {
                match &cli.command {
                    Command::Heads => out!("{}", listing.heads())?,
                    Command::History { verbose, .. } => out!("{}", listing.history(&nodes, *verbose))?,
                    _ => out!("{}", listing.history(&nodes, true))?,
                }
            }
            0
        }
        _ => migrator::run(&project, &migrator_args(&cli), cli.database_url.as_deref())?,
    })
}

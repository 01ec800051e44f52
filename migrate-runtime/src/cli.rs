//! The database commands inside any binary (feature `cli`): a backend's entrypoint can run
//! `my-backend migrate upgrade head` before it serves, as the guide runs `alembic upgrade head`.
//!
//! ```ignore
//! static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();
//!
//! fn main() -> std::process::ExitCode {
//!     let args: Vec<String> = std::env::args().collect();
//!     if args.get(1).map(String::as_str) == Some("migrate") {
//!         return migrate_runtime::cli::run_with_args(&MIGRATIONS, &args[2..]);
//!     }
//!     // … serve
//! }
//! ```
//!
//! The database is `--database-url`, else `DATABASE_URL`, else `DATABASE_URL` in `./.env`.
//!
//! Exit codes: 0 done; 1 `check` found the database not at its heads, or `test` found broken
//! downgrades; 2 the command line is wrong; 3 the run failed or was refused (the message says
//! why and what to do); 130 or 143 when Ctrl-C or SIGTERM stopped a run (it says where the
//! database stands). Output to a closed pipe (`… --sql | head`) ends the command quietly.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use clap::{Parser, Subcommand};
use migrate_core::graph::NodeId;
use migrate_core::listing::{Listed, Listing, json_list, marks};
use migrate_core::text::without_connection_strings;

use crate::error::rows_text;
use crate::runner::{Migrator, Report, StepReport};
use crate::testkit;
use migrate_core::chain::Chain;

/// Exit code: the database is not at its heads, or downgrades are broken.
pub const EXIT_CHECK_FAILED: u8 = 1;
/// Exit code: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the run failed or was refused.
pub const EXIT_FAILED: u8 = 3;

#[derive(Parser)]
#[command(name = "migrate", about = "Apply, revert and inspect the migrations embedded in this binary")]
struct Cli {
    /// The database (else DATABASE_URL, else DATABASE_URL in ./.env).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Print JSON (current, heads, history, show, check).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The database's current revisions.
    Current,
    /// Apply migrations up to TARGET: head, heads, +N, a revision or a prefix, <rev>+N.
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
    /// Revert migrations down to TARGET: -N, base, a revision or a prefix, head-N.
    Downgrade {
        /// Where to go.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it; TARGET must then be a range FROM:TO.
        #[arg(long)]
        sql: bool,
    },
    /// Set the version rows to TARGETS without running migrations.
    Stamp {
        /// The revisions (or base, head, heads).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Delete every version row first, unknown ones too.
        #[arg(long)]
        purge: bool,
    },
    /// Exit 1 unless the database is at the heads (for deploy gates).
    Check,
    /// The migrations, newest first, marked applied or pending when a database is known.
    History {
        /// Full entries.
        #[arg(long, short)]
        verbose: bool,
        /// A range START:END (either side may be empty).
        #[arg(long, short)]
        range: Option<String>,
    },
    /// The heads of the history.
    Heads,
    /// One revision in full.
    Show {
        /// A revision, a prefix, head or -N.
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
    /// Apply, revert and re-apply every migration on a throwaway database, comparing schemas.
    Test,
    /// Record the checksum applied migrations render now (after a harmless edit).
    Accept {
        /// The revisions.
        #[arg(required = true)]
        revs: Vec<String>,
    },
}

/// Runs a command from the process's arguments (after the program's name).
pub fn run(chain: &Chain) -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os().skip(1).map(|a| a.into_string()).collect();
    match args {
        Ok(args) => run_with_args(chain, &args),
        Err(_) => {
            say("error: an argument is not valid UTF-8 (not shown: it may hold a password)");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Runs a command from `args` (without the program's name, and without the word that chose
/// the migration commands, such as `migrate`).
pub fn run_with_args(chain: &Chain, args: &[String]) -> ExitCode {
    let cli = match Cli::try_parse_from(std::iter::once("migrate".to_owned()).chain(args.iter().cloned())) {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            say(without_connection_strings(&error.render().to_string(), args).trim_end());
            return ExitCode::from(EXIT_USAGE);
        }
        Err(error) => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
    };
    match execute(chain, cli) {
        Ok(code) | Err(Stop::Exit(code)) => ExitCode::from(code),
        Err(Stop::Failed(message, code)) => {
            say(&format!("error: {}", without_connection_strings(&message, args)));
            ExitCode::from(code)
        }
    }
}

/// Why a command ends early.
enum Stop {
    /// With a message and an exit code.
    Failed(String, u8),
    /// Quietly, with an exit code.
    Exit(u8),
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Failed(message, EXIT_FAILED)
    }
}

impl From<crate::Error> for Stop {
    fn from(error: crate::Error) -> Stop {
        match error {
            crate::Error::Interrupted { signal, .. } => {
                Stop::Failed(error.to_string(), u8::try_from(128 + signal).unwrap_or(EXIT_FAILED))
            }
            error => Stop::Failed(error.to_string(), EXIT_FAILED),
        }
    }
}

/// Writes to stdout; a reader that went away ends the command quietly.
/// The summary of a run that succeeded: a stdout that cannot be written is said on stderr,
/// not turned into a failure, since the database did change.
fn emit_summary(text: &str) -> Result<(), Stop> {
    match emit(text) {
        Err(Stop::Failed(message, _)) => {
            say(&format!("warning: {message}"));
            Ok(())
        }
        other => other,
    }
}

fn emit(text: &str) -> Result<(), Stop> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Stop::Exit(0)),
        Err(e) => Err(Stop::Failed(format!("cannot write to stdout: {e}"), EXIT_FAILED)),
    }
}

/// Ctrl-C and SIGTERM stop a run that changes the database: the statement running is
/// cancelled and rolled back, and the run says where the database stands. A second one
/// ends the process at once.
fn interrupt_flag() -> Arc<AtomicUsize> {
    let flag = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let code = 128 + signal;
        let _ = signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&seen));
        let _ = signal_hook::flag::register(signal, Arc::clone(&seen));
        let _ = signal_hook::flag::register_usize(
            signal,
            Arc::clone(&flag),
            usize::try_from(signal).unwrap_or(0),
        );
    }
    flag
}

/// Writes a line to stderr; a closed stderr is not worth failing a run for.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn note(text: &str) {
    say(&format!("note: {text}"));
}

/// The database from the flag, the environment, or `./.env`.
fn database_url(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty())).or_else(|| {
        let text = std::fs::read_to_string(".env").ok()?;
        text.lines().find_map(|line| {
            let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
            let value = line.strip_prefix("DATABASE_URL=")?.trim();
            Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned())
        })
    })
}

fn need_url(flag: Option<String>) -> Result<String, String> {
    database_url(flag).ok_or_else(|| {
        "no database: set DATABASE_URL, put `DATABASE_URL=…` in ./.env, or pass --database-url".to_owned()
    })
}

fn progress(step: &StepReport) {
    say(&format!(
        "  {} {} {} ({:.1} ms)",
        step.direction.as_str(),
        step.rev,
        step.slug,
        step.duration.as_secs_f64() * 1e3
    ));
}

fn summary(report: &Report) -> String {
    format!(
        "database at {}: {} step(s), {} round trips",
        rows_text(&report.after),
        report.steps.len(),
        report.round_trips
    )
}

fn entries(chain: &Chain) -> Vec<Listed> {
    chain
        .iter()
        .map(|m| Listed {
            rev: m.rev.to_owned(),
            parents: m.parents.iter().map(|p| (*p).to_owned()).collect(),
            slug: m.slug.to_owned(),
            why: m.why.to_owned(),
            file: m.file.to_owned(),
        })
        .collect()
}

fn current_nodes(migrator: &Migrator, url: &str) -> Result<Vec<NodeId>, String> {
    let rows = migrator.current(url).map_err(|e| e.to_string())?;
    let graph = migrator.graph();
    let unknown: Vec<&String> = rows.iter().filter(|r| graph.node(r).is_none()).collect();
    if let Some(first) = unknown.first() {
        return Err(crate::Error::UnknownRevision { revisions: vec![(*first).clone()] }.to_string());
    }
    Ok(rows.iter().filter_map(|r| graph.node(r)).collect())
}

/// Splits `FROM:TO` for `--sql` (`FROM` defaults to `default`).
fn sql_range<'t>(target: &'t str, default: Option<&'t str>) -> Result<(&'t str, &'t str), String> {
    match (target.split_once(':'), default) {
        (Some((from, to)), _) => Ok((if from.is_empty() { "base" } else { from }, to)),
        (None, Some(from)) => Ok((from, target)),
        (None, None) => Err(format!("downgrade --sql needs a range FROM:TO, such as `head:{target}`")),
    }
}

fn execute(chain: &Chain, cli: Cli) -> Result<u8, Stop> {
    let migrator = match cli.command {
        // The stairway's hundreds of steps would bury its report.
        Command::Test => Migrator::new(chain),
        Command::Upgrade { sql: false, .. }
        | Command::Downgrade { sql: false, .. }
        | Command::Stamp { .. } => {
            Migrator::new(chain).on_step(progress).on_note(note).interrupt_on(interrupt_flag())
        }
        _ => Migrator::new(chain).on_step(progress).on_note(note),
    };
    let json = cli.json;
    match cli.command {
        Command::Upgrade { target, sql: true, one_transaction } => {
            let (from, to) = sql_range(&target, Some("base"))?;
            emit(&migrator.one_transaction(one_transaction).upgrade_sql(from, to)?)?;
        }
        Command::Downgrade { target, sql: true } => {
            let (from, to) = sql_range(&target, None)?;
            emit(&migrator.downgrade_sql(from, to)?)?;
        }
        Command::Upgrade { target, sql: false, one_transaction } => {
            let url = need_url(cli.database_url)?;
            let report = migrator.one_transaction(one_transaction).upgrade(&url, &target)?;
            emit_summary(&format!("{}\n", summary(&report)))?;
        }
        Command::Downgrade { target, sql: false } => {
            let url = need_url(cli.database_url)?;
            let report = migrator.downgrade(&url, &target)?;
            emit_summary(&format!("{}\n", summary(&report)))?;
        }
        Command::Stamp { targets, purge } => {
            let url = need_url(cli.database_url)?;
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            let report = migrator.stamp(&url, &targets, purge)?;
            emit_summary(&format!("{}\n", summary(&report)))?;
        }
        Command::Accept { revs } => {
            let url = need_url(cli.database_url)?;
            let revs: Vec<&str> = revs.iter().map(String::as_str).collect();
            migrator.accept_checksums(&url, &revs)?;
            emit_summary(&format!("accepted the checksums of {}\n", revs.join(", ")))?;
        }
        Command::Current => {
            let url = need_url(cli.database_url)?;
            let rows = migrator.current(&url).map_err(|e| e.to_string())?;
            if json {
                emit(&format!("{{\"current\": {}}}\n", json_list(&rows)))?;
            } else if rows.is_empty() {
                emit("base (no migration applied)\n")?;
            } else {
                let graph = migrator.graph();
                let entries = entries(chain);
                let listing = Listing::new(graph, &entries, None);
                for row in &rows {
                    match graph.node(row) {
                        Some(node) => emit(&format!("{}\n", listing.line(node)))?,
                        None => emit(&format!("{row} (unknown to this binary)\n"))?,
                    }
                }
            }
        }
        Command::Check => {
            let url = need_url(cli.database_url)?;
            let rows = migrator.current(&url).map_err(|e| e.to_string())?;
            let at_heads = migrator.are_heads(&rows);
            let graph = migrator.graph();
            let heads = graph.revs_of(&graph.heads());
            if json {
                emit(&format!(
                    "{{\"at_heads\": {at_heads}, \"current\": {}, \"heads\": {}}}\n",
                    json_list(&rows),
                    json_list(&heads)
                ))?;
            } else if at_heads {
                emit(&format!("the database is at its head ({})\n", heads.join(", ")))?;
            } else {
                emit(&format!(
                    "the database is at {}, not at the head {}: run `upgrade head`\n",
                    rows_text(&rows),
                    heads.join(", ")
                ))?;
            }
            return Ok(if at_heads { 0 } else { EXIT_CHECK_FAILED });
        }
        Command::History { verbose, range } => {
            let graph = migrator.graph();
            let marks = match database_url(cli.database_url) {
                Some(url) => Some(marks(graph, &current_nodes(&migrator, &url)?)),
                None => None,
            };
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, marks.as_deref());
            let nodes = listing.range(range.as_deref()).map_err(|e| e.to_string())?;
            if json {
                emit(&listing.json_array(&nodes))?;
            } else {
                emit(&listing.history(&nodes, verbose))?;
            }
        }
        Command::Heads => {
            let graph = migrator.graph();
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, None);
            if json {
                emit(&listing.json_array(&graph.heads()))?;
            } else {
                emit(&listing.heads())?;
            }
        }
        Command::Show { rev } => {
            let graph = migrator.graph();
            let entries = entries(chain);
            let listing = Listing::new(graph, &entries, None);
            let nodes = graph.resolve_str(&rev, &graph.heads()).map_err(|e| e.to_string())?;
            if json {
                emit(&listing.json_array(&nodes))?;
            } else {
                emit(&listing.history(&nodes, true))?;
            }
        }
        Command::Test => {
            let report = testkit::stairway(&migrator).map_err(|e| e.to_string())?;
            emit(&format!("{report}\n"))?;
            return Ok(if report.is_ok() { 0 } else { EXIT_CHECK_FAILED });
        }
    }
    Ok(0)
}

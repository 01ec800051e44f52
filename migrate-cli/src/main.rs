//! `cargo migrate`: the daily commands of the migration workflow.
//!
//! Source commands work on the files, without a database and without building anything:
//! `revision`, `merge`, `seal`, `import`, `heads`, `history`, `show`, `check`. Database commands
//! (`current`, `upgrade`, `downgrade`, `stamp`, `check --db`, `history --db`, `test`, `accept`,
//! `schema`)
//! are defined once, in `migrate_runtime::cli`, for this command line and for a binary's
//! embedded one: they are parsed here, before anything is built, then run by a migrator built
//! from the crate's migrations folder, which receives the same arguments. The database is
//! `--database-url`, else `DATABASE_URL`, else `DATABASE_URL=` in `./.env`.
//!
//! Exit codes: `migrate_runtime::cli::Exit`, the table both command lines share.

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

mod autogenerate;
mod check;
mod import;
mod migrator;
mod project;
mod revision;
mod seal;
mod time;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migrate_core::listing::Listing;
use migrate_runtime::cli::{self as database, Exit};

use crate::project::{History, Project};
use crate::revision::Refused;

/// The command line: the source commands, then the database commands of `migrate_runtime::cli`.
#[derive(Parser)]
#[command(
    name = "cargo migrate",
    bin_name = "cargo migrate",
    version,
    about = "PostgreSQL migrations checked at build time",
    after_help = "Source commands (revision, merge, seal, import, heads, history, show, check) read the migrations \
                  folder. Database commands (current, upgrade, downgrade, stamp, check --db, history --db, test, \
                  accept, schema) run the crate's migrations through a migrator built from that folder, the first time \
                  and after a migration changed."
)]
struct Cli {
    /// The crate's Cargo.toml (default: the nearest above the current folder), before or after the command.
    // Taken out of the command line before it is parsed (see `take_option`), so that it is
    // accepted after the command too, as cargo accepts it, while the help of the database
    // commands stays the embedded command line's own; declared here for this help.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    #[command(flatten)]
    options: database::Options,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a migration following the head: migrations/YYYYMMDD_HHMM_REV_SLUG.rs.
    Revision {
        /// The slug: what changes, in snake_case, such as add_lead_scores_table.
        #[arg(short, long)]
        message: String,
        /// Write upgrade and downgrade from the difference between the head's schema and the
        /// declared schema (`declared_schema`, default schema/), each built on a throwaway database.
        #[arg(long)]
        autogenerate: bool,
    },
    /// Create a migration merging heads (all of them by default).
    Merge {
        /// The slug of the merge.
        #[arg(short, long)]
        message: String,
        /// The heads to merge.
        revs: Vec<String>,
    },
    /// Seal the deployed migrations: record their meaning in the folder's seal.lock, checked by every build.
    ///
    /// Run it when migrations are deployed (a release or deploy step), and commit the file. A sealed
    /// migration may not change meaning, be deleted, or get a new migration before it.
    Seal {
        /// Seal this revision and its ancestors only (default: every migration of the folder).
        #[arg(long, value_name = "REV")]
        to: Option<String>,
        /// Accept the new meaning of a sealed migration edited on purpose (repeat for several).
        #[arg(long, value_name = "REV")]
        accept: Vec<String>,
    },
    /// Import a Diesel, sqlx or refinery history into the empty migrations folder.
    Import {
        /// The tool the history was written for.
        #[arg(long)]
        from: import::Tool,
        /// Its migrations folder.
        dir: PathBuf,
    },
    #[command(flatten)]
    Database(database::Command),
}

fn main() -> ExitCode {
    // As a cargo subcommand, the program is called as `cargo-migrate migrate …`.
    let Ok(mut args) = std::env::args_os().map(|a| a.into_string()).collect::<Result<Vec<String>, _>>()
    else {
        database::report_error("an argument is not valid UTF-8 (not shown: it may hold a password)", &[]);
        return Exit::Usage.into();
    };
    if args.get(1).map(String::as_str) == Some("migrate") {
        args.remove(1);
    }
    let manifest_path = take_option(&mut args, "--manifest-path").map(PathBuf::from);
    let cli: Cli = match database::parse(&args) {
        Ok(cli) => cli,
        Err(exit) => return exit.into(),
    };
    match execute(cli, manifest_path, &args) {
        Ok(exit) => exit.into(),
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Exit::Done.into()
        }
        Err(error) => {
            database::report_error(&format!("{error:#}"), &args);
            Exit::Failed.into()
        }
    }
}

/// `path` relative to the current folder when it is under it, as messages show it.
fn shown(path: &std::path::Path) -> String {
    let here = std::env::current_dir().ok().and_then(|dir| dir.canonicalize().ok());
    here.and_then(|dir| path.strip_prefix(dir).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

/// Takes every `flag VALUE` and `flag=VALUE` out of `args` (before a `--`); returns the last
/// value. A flag without a value is left for the parser to report.
fn take_option(args: &mut Vec<String>, flag: &str) -> Option<String> {
    let mut value = None;
    let mut i = 1;
    while i < args.len() && args[i] != "--" {
        if args[i] == flag && i + 1 < args.len() {
            value = Some(args.remove(i + 1));
            args.remove(i);
        } else if let Some(inline) = args[i].strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')) {
            value = Some(inline.to_owned());
            args.remove(i);
        } else {
            i += 1;
        }
    }
    value
}

fn refused(result: Result<String, Refused>, args: &[String]) -> std::io::Result<Exit> {
    match result {
        Ok(path) => {
            outln!("created {path}")?;
            outln!("now say why in its doc comment, write upgrade and downgrade, and review it")?;
            Ok(Exit::Done)
        }
        Err(Refused(message)) => {
            database::report_error(&message, args);
            Ok(Exit::Failed)
        }
    }
}

fn autogenerated(result: Result<autogenerate::Outcome, Refused>, args: &[String]) -> std::io::Result<Exit> {
    match result {
        Ok(autogenerate::Outcome::Same { declared }) => {
            outln!("no difference between the head's schema and {declared}: nothing written")?;
            Ok(Exit::Done)
        }
        Ok(autogenerate::Outcome::Written { path, decisions, notes }) => {
            outln!("created {path}")?;
            if !decisions.is_empty() {
                outln!("decide (each is a `// DECIDE:` comment in the file):")?;
                for decision in &decisions {
                    outln!("  - {decision}")?;
                }
            }
            for note in &notes {
                outln!("note: {note}")?;
            }
            outln!("now say why in its doc comment, review it, and add any data migration it needs")?;
            Ok(Exit::Done)
        }
        Err(Refused(message)) => {
            database::report_error(&message, args);
            Ok(Exit::Failed)
        }
    }
}

fn execute(cli: Cli, manifest_path: Option<PathBuf>, args: &[String]) -> anyhow::Result<Exit> {
    let project = Project::find(manifest_path.or(cli.manifest_path).as_deref())?;
    let json = cli.options.json;
    let command = match cli.command {
        Command::Revision { message, autogenerate: false } => {
            return Ok(refused(revision::revision(&project, &message)?, args)?);
        }
        Command::Revision { message, autogenerate: true } => {
            return Ok(autogenerated(autogenerate::autogenerate(&project, &message)?, args)?);
        }
        Command::Merge { message, revs } => {
            return Ok(refused(revision::merge(&project, &message, &revs)?, args)?);
        }
        Command::Import { from, dir } => {
            let imported = import::import(&project, from, &dir)?;
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
            return Ok(Exit::Done);
        }
        Command::Seal { to, accept } => {
            return Ok(match seal::seal(&project, to.as_deref(), &accept)? {
                Some(sealed) if sealed.added == 0 && sealed.accepted == 0 => {
                    outln!("nothing new to seal: {} migrations sealed in {}", sealed.total, sealed.display)?;
                    Exit::Done
                }
                Some(sealed) => {
                    let plural = |n: usize| if n == 1 { "" } else { "s" };
                    let accepted = match sealed.accepted {
                        0 => String::new(),
                        n => format!(", accepted the new meaning of {n} sealed migration{}", plural(n)),
                    };
                    outln!(
                        "sealed {} migration{}{accepted}: {} sealed in {}; commit it",
                        sealed.added,
                        plural(sealed.added),
                        sealed.total,
                        sealed.display
                    )?;
                    Exit::Done
                }
                None => {
                    database::report_error(
                        "nothing sealed: the folder has the problems above; fix them first",
                        args,
                    );
                    Exit::Failed
                }
            });
        }
        Command::Database(command) => command,
    };
    Ok(match command {
        database::Command::Check { db: false, .. } => {
            if !check::check(&project, json)? {
                Exit::CheckFailed
            } else if project.schema_file().is_file() {
                // The rules passed, so the migrator builds: the schema file must be what the
                // head builds.
                let path = shown(&project.schema_file());
                let args = ["schema".to_owned(), "--check".to_owned(), path];
                migrator::run_child(&project, &args, cli.options.database_url.as_deref(), json)?
            } else {
                Exit::Done
            }
        }
        database::Command::Heads
        | database::Command::Show { .. }
        | database::Command::History { db: false, .. } => {
            let folder = project.scan()?;
            let history = History::of(&folder);
            let listing = Listing::new(&history.graph, &history.entries, None);
            let nodes = match &command {
                database::Command::Heads => history.graph.heads(),
                database::Command::Show { rev } => history.graph.resolve_str(rev, &history.graph.heads())?,
                database::Command::History { range, .. } => listing.range(range.as_deref())?,
                _ => Vec::new(),
            };
            if json {
                out!("{}", listing.json_array(&nodes))?;
            } else {
                match &command {
                    database::Command::Heads => out!("{}", listing.heads())?,
                    database::Command::History { verbose, .. } => {
                        out!("{}", listing.history(&nodes, *verbose))?
                    }
                    _ => out!("{}", listing.history(&nodes, true))?,
                }
            }
            Exit::Done
        }
        // The arguments as given, but for the database, which goes in the migrator's
        // environment: its command line can be read by every user of the machine.
        _ => {
            let mut forwarded = args.to_vec();
            take_option(&mut forwarded, "--database-url");
            let dev_url = take_option(&mut forwarded, "--dev-url");
            // `schema` writes (or checks) the crate's schema file unless told another.
            if let database::Command::Schema { check: None | Some(None), output: None } = &command {
                forwarded.push("--output".to_owned());
                forwarded.push(shown(&project.schema_file()));
            }
            migrator::run(&project, &forwarded[1..], cli.options.database_url.as_deref(), dev_url.as_deref())?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_are_taken_wherever_they_are() {
        for (line, value, rest) in [
            (
                "cargo-migrate upgrade head --manifest-path a/Cargo.toml",
                Some("a/Cargo.toml"),
                "cargo-migrate upgrade head",
            ),
            ("cargo-migrate --manifest-path=b upgrade head", Some("b"), "cargo-migrate upgrade head"),
            (
                "cargo-migrate upgrade head --manifest-path",
                None,
                "cargo-migrate upgrade head --manifest-path",
            ),
            ("cargo-migrate stamp -- --manifest-path x", None, "cargo-migrate stamp -- --manifest-path x"),
            ("cargo-migrate --manifest-path a current --manifest-path b", Some("b"), "cargo-migrate current"),
        ] {
            let mut args = words(line);
            assert_eq!(take_option(&mut args, "--manifest-path").as_deref(), value, "{line}");
            assert_eq!(args, words(rest), "{line}");
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}

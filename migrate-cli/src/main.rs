//! `cargo migrate`: the daily commands of the migration workflow.
//!
//! Source commands work on the files, without a database and without building anything:
//! `revision`, `merge`, `seal`, `import`, `heads`, `bases`, `history`, `show`, `check`,
//! `changelog` (which reads the database too with `--db`). `squash` proves its change on
//! throwaway databases, and `prune` reads the version rows of the database it is given. Database commands
//! (`current`, `upgrade`, `downgrade`, `stamp`, `check --db`, `history --db`, `test`, `accept`,
//! `schema`)
//! are defined once, in `migrate_runtime::cli`, for this command line and for a binary's
//! embedded one: they are parsed here, before anything is built, then run by a migrator built
//! from the crate's migrations folder, which receives the same arguments. The database is
//! `--database-url`, else `DATABASE_URL`, else `DATABASE_URL=` in `./.env`. `adopt` reads
//! both, the imported history and the old tool's table, then stamps through the migrator.
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

mod adopt;
mod alembic;
mod autogenerate;
mod changelog;
mod check;
mod import;
mod migrator;
mod project;
mod prune;
mod revision;
mod seal;
mod squash;
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
    after_help = "Source commands (revision, merge, seal, import, heads, bases, history, show, check, changelog) read the \
                  migrations folder; squash proves its change on throwaway databases, prune reads a database's version rows. Database commands (current, upgrade, downgrade, stamp, check --db, history --db, test, \
                  accept, schema) run the crate's migrations through a migrator built from that folder, the first time \
                  and after a migration changed. adopt reads both: the imported history and the old tool's table, then \
                  stamps through the migrator."
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
    /// Create a migration following the head (or --head): migrations/YYYYMMDD_HHMM_REV_SLUG.rs.
    Revision {
        /// The slug: what changes, in snake_case, such as add_lead_scores_table.
        #[arg(short, long)]
        message: String,
        /// Write upgrade and downgrade from the difference between the head's schema and the
        /// declared schema (`declared_schema`, default schema/), each built on a throwaway database.
        #[arg(long)]
        autogenerate: bool,
        /// The revision to follow: LABEL@head, a revision or a prefix, or base for a new base
        /// (which needs --branch-label); default: the head.
        #[arg(long, value_name = "TARGET", conflicts_with = "autogenerate")]
        head: Option<String>,
        /// Let --head name a revision that is not a head: the new migration starts a branch from it.
        #[arg(long, requires = "head", conflicts_with = "autogenerate")]
        splice: bool,
        /// A branch label of the new migration, so that LABEL@head names its branch (repeat for several).
        #[arg(long = "branch-label", value_name = "LABEL", conflicts_with = "autogenerate")]
        branch_labels: Vec<String>,
        /// A revision or branch label applied before the new migration, without merging (repeat for several).
        #[arg(long = "depends-on", value_name = "REV", conflicts_with = "autogenerate")]
        depends_on: Vec<String>,
    },
    /// Create a migration merging heads (all of them by default).
    Merge {
        /// The slug of the merge.
        #[arg(short, long)]
        message: String,
        /// The heads to merge.
        revs: Vec<String>,
        /// Merge revisions that are not heads too.
        #[arg(long)]
        splice: bool,
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
    /// Import a Diesel, sqlx, refinery or Alembic history into the empty migrations folder.
    Import {
        /// The tool the history was written for.
        #[arg(long)]
        from: import::Tool,
        /// Its migrations folder; for Alembic, the folder of alembic.ini.
        dir: PathBuf,
        /// Alembic: the `alembic` program to run (default: `alembic` on PATH).
        #[arg(long, value_name = "PROGRAM")]
        alembic: Option<PathBuf>,
        /// Alembic: the output of `alembic upgrade base:heads --sql`, instead of running Alembic.
        #[arg(long, value_name = "FILE", requires = "downgrade_sql")]
        upgrade_sql: Option<PathBuf>,
        /// Alembic: the output of `alembic downgrade heads:base --sql`, with --upgrade-sql.
        #[arg(long, value_name = "FILE", requires = "upgrade_sql")]
        downgrade_sql: Option<PathBuf>,
    },
    /// Stamp a database the imported tool migrated at the revision of the last migration it applied.
    ///
    /// Reads migrations/imported.toml (written by import), then the tool's table
    /// (__diesel_schema_migrations, _sqlx_migrations, refinery_schema_history); refuses an applied
    /// version the import does not have, an imported migration before the last applied one that
    /// the tool never applied, and a database that already has version rows.
    Adopt,
    /// Replace the migrations up to a deployed revision with one baseline migration keeping its id.
    ///
    /// Proves first, on throwaway databases, that the squashed chain builds the same schema and
    /// data as the original, and that every later migration still applies; then writes the
    /// baseline, removes the old files and updates the seal.
    Squash {
        /// The last revision squashed: it and everything below it become the baseline.
        #[arg(long, value_name = "REV")]
        to: String,
    },
    /// Write CHANGELOG_DB.md from the migrations: newest first, with each one's date, slug, revision and why.
    ///
    /// Beside Cargo.toml; commit it. The same folder (and database) writes the same bytes, and
    /// `cargo migrate check` fails while the file is stale.
    Changelog {
        /// How entries are grouped: by the month of their date, or along the mainline with what each
        /// merge brought in.
        #[arg(long, value_enum, default_value_t = changelog::Grouping::Month)]
        by: changelog::Grouping,
        /// Mark each migration with when it was applied to the database (--database-url, else
        /// DATABASE_URL, else ./.env), or "not applied".
        #[arg(long)]
        db: bool,
        /// Exit 1 when the file is not what the options its header records write now, instead of
        /// writing it (so --by and --db are not given with it).
        #[arg(long, conflicts_with_all = ["by", "db"])]
        check: bool,
    },
    /// List the migrations after a database's head that were never deployed (and remove them with --yes).
    Prune {
        /// The database whose head marks what was deployed.
        #[arg(long, value_name = "DATABASE_URL")]
        not_in: String,
        /// Remove the listed migrations' files.
        #[arg(long)]
        yes: bool,
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
        Command::Revision { message, autogenerate: false, head, splice, branch_labels, depends_on } => {
            let placement = revision::Placement { head, splice, branch_labels, depends_on };
            return Ok(refused(revision::revision(&project, &message, &placement)?, args)?);
        }
        Command::Revision { message, autogenerate: true, .. } => {
            return Ok(autogenerated(autogenerate::autogenerate(&project, &message)?, args)?);
        }
        Command::Merge { message, revs, splice } => {
            return Ok(refused(revision::merge(&project, &message, &revs, splice)?, args)?);
        }
        Command::Import { from: import::Tool::Alembic, dir, alembic, upgrade_sql, downgrade_sql } => {
            let options = alembic::Options { alembic, upgrade_sql, downgrade_sql };
            for line in alembic::import(&project, &dir, &options)? {
                outln!("{line}")?;
            }
            return Ok(Exit::Done);
        }
        Command::Import { from, dir, alembic: None, upgrade_sql: None, downgrade_sql: None } => {
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
        Command::Import { .. } => {
            anyhow::bail!("--alembic, --upgrade-sql and --downgrade-sql are for --from alembic")
        }
        Command::Adopt => {
            let url = cli.options.database_url.clone();
            return Ok(match adopt::adopt(&project, url.clone())? {
                adopt::Adopted::Nothing(said) => {
                    outln!("{said}")?;
                    Exit::Done
                }
                adopt::Adopted::Stamp { rev, said } => {
                    outln!("{said}")?;
                    migrator::run(&project, &["stamp".to_owned(), rev], url.as_deref(), None)?
                }
            });
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
        Command::Squash { to } => {
            return squash::run(&project, &to, cli.options.database_url.as_deref(), args);
        }
        Command::Changelog { by, db, check } => {
            return changelog::run(&project, by, db, cli.options.database_url.clone(), check);
        }
        Command::Prune { not_in, yes } => return prune::run(&project, &not_in, yes),
        Command::Database(command) => command,
    };
    Ok(match command {
        database::Command::Check { db: false, .. } => {
            let rules = check::check(&project, json)?;
            // After the rules, whatever they found: it reads the files alone (and the database
            // when the file was written with --db and one is set).
            let changelog = changelog::check_if_present(&project, cli.options.database_url.clone(), json)?;
            let exit = if !rules {
                Exit::CheckFailed
            } else if project.schema_file().is_file() {
                // The rules passed, so the migrator builds: the schema file must be what the
                // head builds.
                let path = shown(&project.schema_file());
                let args = ["schema".to_owned(), "--check".to_owned(), path];
                migrator::run_child(&project, &args, cli.options.database_url.as_deref(), json)?
            } else {
                Exit::Done
            };
            if exit == Exit::Done && !changelog { Exit::CheckFailed } else { exit }
        }
        database::Command::Heads
        | database::Command::Bases
        | database::Command::Show { .. }
        | database::Command::History { db: false, .. } => {
            let folder = project.scan()?;
            let history = History::of(&folder);
            let listing = Listing::new(&history.graph, &history.entries, None);
            let nodes = match &command {
                database::Command::Heads => listing.head_nodes(),
                database::Command::Bases => history.graph.bases(),
                database::Command::Show { rev } => history.graph.resolve_str(rev, &history.graph.heads())?,
                database::Command::History { range, .. } => listing.range(range.as_deref())?,
                _ => Vec::new(),
            };
            if json {
                out!("{}", listing.json_array(&nodes))?;
            } else {
                match &command {
                    database::Command::Heads => out!("{}", listing.heads())?,
                    database::Command::Bases => out!("{}", listing.bases())?,
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

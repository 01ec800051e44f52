//! `squash --to <rev>`: the migrations up to a deployed revision become one baseline migration
//! that keeps that revision's id, proven equivalent on throwaway databases before anything is
//! written.
//!
//! The squashed set is `--to` and its ancestors (parents and dependencies). Refused before any
//! database is touched: a folder the build would reject, a set of one, a migration outside the
//! set that grows from or depends on a squashed revision other than `--to` (a branch forked
//! below it), a revision id no attribute can hold, and an `imported.toml` mapping versions to
//! squashed revisions (`adopt` maps one version to one revision).
//!
//! The baseline's SQL is the original chain replayed up to `--to` on a throwaway database and
//! dumped by `pg_dump` (schema and rows, the runner's tables left out), its session preamble,
//! comments and top-level `BEGIN;`/`COMMIT;` taken out. Refused after that replay: roles it
//! created (the server's, not the database's; dropped again once the throwaway databases are)
//! and objects owned by a role other than the one that migrates (the dump has no owners). The
//! proof: the candidate folder (the baseline and the later migrations unchanged) is built in a
//! temporary copy with its own migrator; the original chain replayed again on a fresh database
//! and the candidate on another must give the same schema (through the schema model) and the
//! same rows (`pg_dump --data-only --inserts`, and every materialized view's rows) at `--to`;
//! and at the heads, the candidate after every later migration must equal the original chain
//! applied in one uninterrupted run on a fresh database. Any difference refuses the squash and
//! writes nothing. Then the baseline is written, the squashed files removed, `start_after` moved onto
//! the baseline when it was unset or below it, and the seal (when the folder has one)
//! rewritten: the squashed entries out, the baseline sealed first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use migrate_build::{Folder, Settings};
use migrate_core::graph::NodeId;
use migrate_core::naming::{FileName, check_slug};
use migrate_core::rules::stray_file::IMPORTED;
use migrate_core::seal::{self, Seal, SealEntry};
use migrate_core::sql::{quote_ident, quote_literal};
use migrate_core::text::without_url_passwords;
use migrate_runtime::TableNames;
use migrate_runtime::catalog::{Options, Schema};
use migrate_runtime::cli::{self as database, Exit};
use migrate_runtime::testkit;

use crate::check::{problems, render};
use crate::import::with_start_after;
use crate::project::{History, Project, db_message, text_rows};
use crate::revision::migration_text;

/// The first line of the baseline's SQL: function bodies are not checked while the dump
/// creates them, since a body may name an object the dump creates later (pg_dump's own
/// restore does the same). `LOCAL`: it ends with the migration's transaction.
const PREAMBLE: &str = "SET LOCAL check_function_bodies = off;";

/// The last line: the setting back to the session's value before the transaction commits,
/// so nothing after the dump in the same transaction runs with bodies unchecked.
const POSTAMBLE: &str = "RESET check_function_bodies;";

/// How many differing lines of each side a refused proof prints.
const SHOWN_DIFFERENCES: usize = 40;

/// `squash --to <rev>`.
pub(crate) fn run(project: &Project, to: &str, database_url: Option<&str>, args: &[String]) -> Result<Exit> {
    let started = Instant::now();
    let folder = project.scan()?;
    let checked = folder.check(&project.settings.config);
    if let Some(error) = checked.setting_errors.first() {
        bail!("invalid [package.metadata.migrate] in `{}`: {error}", project.manifest.display());
    }
    let found = problems(&folder, &checked.diagnostics);
    if !found.is_empty() {
        for (problem, text) in &found {
            outln!("{}", render(problem, text))?;
        }
        database::report_error(
            "nothing squashed: the folder has the problems above, which the build would report; fix them first",
            args,
        );
        return Ok(Exit::Failed);
    }
    let plan = plan(project, &folder, to)?;
    let manifest_text = std::fs::read_to_string(&project.manifest)
        .with_context(|| format!("cannot read `{}`", project.manifest.display()))?;
    let manifest_after = match &plan.start_after {
        StartAfter::Keep => manifest_text.clone(),
        StartAfter::Set => with_start_after(&manifest_text, &plan.to_rev)?,
    };

    // The original chain up to `--to`, on a database of its own: the source of the baseline.
    let scratch = Scratch::new(database_url)?;
    say(&format!("replaying the {} squashed migrations on {}", plan.squashed.len(), scratch.shown));
    let original = crate::migrator::binary(project)?;
    // Roles are the server's: those the replays create are noted, and dropped again once the
    // throwaway databases are (`roles` is dropped after them).
    let roles = Roles::before(&scratch)?;
    let source = scratch.create()?;
    let replay = migrate(&original, &source, &plan.to_rev, "the original chain");
    let made = roles.made()?;
    let owners = if replay.is_ok() { foreign_owners(&source)? } else { Vec::new() };
    if !made.is_empty() || !owners.is_empty() {
        drop(source);
        let kept = roles.sweep();
        return refuse_unkept(&made, &kept, &owners, replay.err(), args);
    }
    replay?;
    let checksum = recorded_checksum(&source, &plan.to_rev)?;
    let dump = pg_dump(&source, &["--no-owner", "--inserts"])?;
    drop(source);
    let sql = baseline_sql(&dump);

    // The candidate folder, in a temporary copy of the crate's settings and folder.
    let candidate = Candidate::new(project)?;
    let baseline = baseline_files(project, &plan, &checksum)?;
    candidate.write(project, &plan, &baseline, &sql, &manifest_after)?;
    let candidate_project = candidate.project(project)?;
    let seal_text = match &folder.seal {
        Some(sealed) => {
            let original =
                sealed.seal.as_ref().map_err(|e| anyhow!("`{}`: {}", sealed.display, e.message))?;
            Some(candidate.seal(&candidate_project, &plan, original, &baseline.rs_name)?)
        }
        None => None,
    };
    let candidate_folder = candidate_project.scan()?;
    let candidate_checked = candidate_folder.check(&candidate_project.settings.config);
    let mut refused: Vec<String> = candidate_checked.setting_errors.clone();
    for (problem, text) in problems(&candidate_folder, &candidate_checked.diagnostics) {
        refused.push(render(&problem, text));
    }
    if !refused.is_empty() {
        for line in &refused {
            outln!("{line}")?;
        }
        database::report_error(
            "nothing squashed: the squashed folder would not build (its problems are above)\n= help: this is a bug \
             of the squash when the folder built before it; the baseline's SQL is pg_dump's output of the replayed \
             chain",
            args,
        );
        return Ok(Exit::Failed);
    }

    // The proof, on fresh databases: the original replayed again, the candidate from empty.
    let squashed_binary = crate::migrator::binary(&candidate_project)?;
    let mut proof = Proof::default();
    let replayed = scratch.create()?;
    let built = scratch.create()?;
    migrate(&original, &replayed, &plan.to_rev, "the original chain")?;
    if let Err(error) = migrate(&squashed_binary, &built, &plan.to_rev, "the squashed chain") {
        database::report_error(
            &format!(
                "nothing squashed: the baseline does not rebuild what the squashed migrations built: {error:#}\n= help: \
                 pg_dump's output of the replayed chain does not restore (an object whose restore depends on the \
                 order of the rows, such as a CHECK calling a function that reads another table); squash to another \
                 revision, or change that object in a new migration first"
            ),
            args,
        );
        return Ok(Exit::Failed);
    }
    proof.compare(&replayed, &built, &format!("at `{}`", plan.to_rev))?;
    drop(replayed);
    let later = plan.later;
    if later > 0 {
        // The original chain in one uninterrupted run, as `upgrade head` builds a new database:
        // what a squashed migration leaves in the session (a `SET search_path`) reaches the
        // later migrations there, and never through the baseline.
        let whole = scratch.create()?;
        migrate(&original, &whole, "heads", "the original chain")?;
        migrate(&squashed_binary, &built, "heads", "the squashed chain")
            .map_err(|e| anyhow!("a later migration does not apply on top of the baseline: {e:#}"))?;
        proof.compare(&whole, &built, "at the heads")?;
    }
    drop(built);
    if !proof.differences.is_empty() {
        for line in &proof.differences {
            outln!("{line}")?;
        }
        database::report_error(
            "nothing squashed: the squashed chain does not build what the original builds (the differences are \
             above: - original, + squashed)\n= help: a migration whose effect differs from run to run (random(), \
             now(), a sequence read by hand) cannot be squashed as it is, nor a history pg_dump cannot reproduce (an \
             extension created with an explicit older VERSION, a column order left by table inheritance, a \
             materialized view not refreshed after its tables changed, session settings a squashed migration \
             leaves to the later ones); squash to a revision below the migration that differs, or make it \
             deterministic in a new migration first",
            args,
        );
        return Ok(Exit::Failed);
    }

    // Written only now: the baseline, the seal and Cargo.toml, then the squashed files removed.
    let dir = project.folder();
    let written = [(&baseline.rs_name, &baseline.rs_text), (&baseline.sql_name, &sql)];
    for (name, text) in written {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if let Some(text) = &seal_text {
        let path = dir.join(seal::FILE_NAME);
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if manifest_after != manifest_text {
        std::fs::write(&project.manifest, &manifest_after)
            .with_context(|| format!("cannot write `{}`", project.manifest.display()))?;
    }
    let keep: BTreeSet<PathBuf> =
        [&baseline.rs_name, &baseline.sql_name].iter().map(|n| dir.join(n)).collect();
    for path in plan.removed.iter().filter(|p| !keep.contains(*p)) {
        std::fs::remove_file(path).with_context(|| format!("cannot remove `{}`", path.display()))?;
    }
    let changelog = crate::changelog::refresh(project)?;

    let first = &plan.squashed[0];
    outln!(
        "squashed {} migrations, `{}` ({}) to `{}` ({}), into {}/{}",
        plan.squashed.len(),
        first.rev,
        first.slug,
        plan.to_rev,
        plan.to_slug,
        project.settings.folder.display(),
        baseline.rs_name
    )?;
    outln!(
        "  its SQL: {}/{} ({} lines); removed {} files",
        project.settings.folder.display(),
        baseline.sql_name,
        sql.lines().count(),
        plan.removed.len()
    )?;
    outln!(
        "proof: equal. {} migrations → 1, {} schema objects and {} rows compared at `{}`{}; {:.1} s",
        plan.squashed.len(),
        proof.objects[0],
        proof.rows[0],
        plan.to_rev,
        match later {
            0 => String::new(),
            n => format!(
                ", {} objects and {} rows at the heads after the {n} later migration{}",
                proof.objects.get(1).copied().unwrap_or(0),
                proof.rows.get(1).copied().unwrap_or(0),
                if n == 1 { "" } else { "s" }
            ),
        },
        started.elapsed().as_secs_f64()
    )?;
    if plan.start_after == StartAfter::Set {
        outln!(
            "set start_after = \"{}\" in Cargo.toml: the baseline is deployed history, exempt from the style and \
             lock rules",
            plan.to_rev
        )?;
    }
    if seal_text.is_some() {
        outln!(
            "updated {}/{}: the squashed migrations out, the baseline sealed",
            folder.display,
            seal::FILE_NAME
        )?;
    }
    if !plan.moved_labels.is_empty() {
        outln!("branch labels moved onto the baseline: {}", plan.moved_labels.join(", "))?;
    }
    if let Some(said) = changelog {
        outln!("{said}")?;
    }
    outln!(
        "a database below `{}` (at a squashed revision) is refused from now on as at an unknown revision: bring it \
         to `{}` with the old code first",
        plan.to_rev,
        plan.to_rev
    )?;
    outln!(
        "the baseline names every object with the schema the replay used (`public.`): a crate deployed as a schema \
         per tenant must not squash; database settings (`ALTER DATABASE … SET`, `COMMENT ON DATABASE`) are not in \
         it; and a database the squashed code built cannot be handled by a binary from before the squash"
    )?;
    outln!(
        "now review and commit the change (the new files, the removed ones, Cargo.toml, the seal and the changelog \
         together)"
    )?;
    Ok(Exit::Done)
}

/// Whether `start_after` must be moved onto the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StartAfter {
    /// It names a revision after the baseline: the baseline is already exempt.
    Keep,
    /// Unset, or naming a squashed revision: set to the baseline.
    Set,
}

/// One squashed migration.
#[derive(Clone, Debug)]
struct Squashed {
    rev: String,
    slug: String,
}

/// What the squash replaces, checked before anything runs.
struct Plan {
    /// `--to`'s full id.
    to_rev: String,
    /// Its slug.
    to_slug: String,
    /// Its file's `YYYYMMDD_HHMM`.
    to_stamp: String,
    /// The squashed migrations in the chain's order (`--to` last).
    squashed: Vec<Squashed>,
    /// The branch labels the baseline declares: `--to`'s, then those of the other squashed
    /// migrations, in the chain's order.
    labels: Vec<String>,
    /// The labels moved from another squashed migration onto the baseline.
    moved_labels: Vec<String>,
    /// The files removed: the squashed migrations and what only they include.
    removed: Vec<PathBuf>,
    /// How many migrations stay after the baseline.
    later: usize,
    /// What becomes of `start_after`.
    start_after: StartAfter,
}

/// The checks that need no database, and what the squash replaces.
fn plan(project: &Project, folder: &Folder, to: &str) -> Result<Plan> {
    let history = History::of(folder);
    let graph = &history.graph;
    let nodes = graph.resolve_str(to, &graph.heads()).map_err(|e| anyhow!("--to `{to}`: {e}"))?;
    let [to_node] = nodes.as_slice() else {
        bail!(
            "--to `{to}` names {} revisions ({}): a squash ends at one revision\n= help: pass one revision id",
            nodes.len(),
            graph.revs_of(&nodes).join(", ")
        );
    };
    let to_node = *to_node;
    let in_set = graph.ancestors(&[to_node]);
    let order: Vec<NodeId> = graph.linear().iter().copied().filter(|&n| in_set[n]).collect();
    let to_rev = graph.rev(to_node).to_owned();
    if order.len() < 2 {
        bail!(
            "--to `{to_rev}` is the first migration: there is nothing to squash into it\n= help: pass a later \
             revision, one whose ancestors should become one baseline"
        );
    }
    if to_rev.contains(['"', '\\']) || to_rev.chars().any(char::is_control) {
        bail!(
            "revision `{to_rev}` holds a quote or a backslash, which the baseline's attribute cannot keep as it is"
        );
    }
    let entry = |node: NodeId| &history.entries[node];
    let file_of = |rev: &str| {
        folder.files.iter().find(|f| f.source.modules.first().and_then(|m| m.rev.as_deref()) == Some(rev))
    };
    // The labels declared in the set move onto the baseline: a later migration depending on
    // one of them then waits for the baseline, which holds what the label named.
    let mut labels: Vec<String> = graph.labels_of(to_node).to_vec();
    let mut moved_labels = Vec::new();
    for &node in &order {
        if node != to_node {
            for label in graph.labels_of(node) {
                labels.push(label.clone());
                moved_labels.push(format!("`{label}` (from `{}`)", graph.rev(node)));
            }
        }
    }
    // What grows from the set must grow from `--to`: the baseline replaces everything else.
    let mut culprits = Vec::new();
    for &node in graph.linear().iter().filter(|&&n| !in_set[n]) {
        let listed = entry(node);
        for parent in graph.parents(node).iter().filter(|&&p| in_set[p] && p != to_node) {
            culprits.push(format!(
                "`{}` ({}) has the down revision `{}`, which the squash replaces",
                listed.rev,
                listed.file,
                graph.rev(*parent)
            ));
        }
        for name in &listed.depends_on {
            if labels.contains(name) {
                continue;
            }
            if let Some(target) = graph.node(name).filter(|&t| in_set[t] && t != to_node) {
                culprits.push(format!(
                    "`{}` ({}) depends on `{}`, which the squash replaces",
                    listed.rev,
                    listed.file,
                    graph.rev(target)
                ));
            }
        }
    }
    if !culprits.is_empty() {
        bail!(
            "cannot squash to `{to_rev}`: {} grow{} from a revision below it, and the baseline cannot be {} parent:\n  \
             {}\n= help: squash to a revision every other line starts from (a merge of the branches), or to one \
             below the fork",
            if culprits.len() == 1 { "a migration" } else { "migrations" },
            if culprits.len() == 1 { "s" } else { "" },
            if culprits.len() == 1 { "its" } else { "their" },
            culprits.join("\n  ")
        );
    }
    // `adopt` maps one version to one revision: squashed revisions cannot be adopted any more.
    let imported = folder.path.join(IMPORTED);
    if let Ok(text) = std::fs::read_to_string(&imported) {
        let mapped = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("versions").and_then(toml::Value::as_table).cloned())
            .unwrap_or_default();
        let gone: Vec<&String> = mapped
            .iter()
            .filter(|(_, rev)| rev.as_str().and_then(|r| graph.node(r)).is_some_and(|n| in_set[n]))
            .map(|(version, _)| version)
            .collect();
        if !gone.is_empty() {
            bail!(
                "`{}/{IMPORTED}` maps {} source version{} (first {}) to squashed revisions: `cargo migrate adopt` \
                 could no longer adopt a database the old tool migrated\n= help: adopt every such database first, \
                 then remove `{IMPORTED}` (its mapping is not needed once none is left), then squash",
                folder.display,
                gone.len(),
                if gone.len() == 1 { "" } else { "s" },
                gone[0]
            );
        }
    }
    let Some(to_file) = file_of(&to_rev) else {
        bail!("the file of revision `{to_rev}` was not found in `{}`", folder.display);
    };
    let to_stamp = FileName::parse(&to_file.source.file_name, Some(&to_rev))
        .map(|name| name.timestamp)
        .map_err(|e| anyhow!("the file name `{}` {e}", to_file.source.file_name))?;
    // The files removed: the squashed migrations and the files only they include.
    let mut removed = Vec::new();
    let mut included_elsewhere = BTreeSet::new();
    for file in &folder.files {
        let squashed = file
            .source
            .modules
            .first()
            .and_then(|m| m.rev.as_deref())
            .and_then(|r| graph.node(r))
            .is_some_and(|n| in_set[n]);
        if squashed {
            removed.push(PathBuf::from(&file.source.path));
        } else {
            included_elsewhere.extend(file.included.iter().cloned());
        }
    }
    for file in &folder.files {
        if removed.contains(&PathBuf::from(&file.source.path)) {
            for included in &file.included {
                if !included_elsewhere.contains(included) && !removed.contains(included) {
                    removed.push(included.clone());
                }
            }
        }
    }
    let start_after = match &project.settings.config.start_after {
        Some(rev) if graph.node(rev).is_some_and(|n| !in_set[n] && graph.ancestors(&[n])[to_node]) => {
            StartAfter::Keep
        }
        _ => StartAfter::Set,
    };
    Ok(Plan {
        to_slug: entry(to_node).slug.clone(),
        squashed: order
            .iter()
            .map(|&n| Squashed { rev: graph.rev(n).to_owned(), slug: entry(n).slug.clone() })
            .collect(),
        later: graph.len() - order.len(),
        to_rev,
        to_stamp,
        labels,
        moved_labels,
        removed,
        start_after,
    })
}

/// The baseline migration's file names and text.
struct Baseline {
    rs_name: String,
    rs_text: String,
    sql_name: String,
}

/// The baseline's slug: the first that passes the crate's naming rules.
fn baseline_slug(project: &Project, plan: &Plan) -> String {
    let words = &project.settings.config.words;
    let to_slug = plan.to_slug.trim_start_matches("baseline_");
    let candidates = [
        format!("squash_of_{}_migrations", plan.squashed.len()),
        format!("baseline_{to_slug}"),
        format!("baseline_of_{}_migrations", plan.squashed.len()),
    ];
    candidates.iter().find(|s| check_slug(s, words).is_ok()).unwrap_or(&candidates[0]).clone()
}

/// The baseline's files: `<to's date and time>_<rev>_<slug>.rs` and its SQL beside it.
fn baseline_files(project: &Project, plan: &Plan, checksum: &str) -> Result<Baseline> {
    let slug = baseline_slug(project, plan);
    let rs_name = FileName::format(&plan.to_stamp, &plan.to_rev, &slug);
    let stem = rs_name.trim_end_matches(".rs").to_owned();
    let sql_name = format!("{stem}.sql");
    let count = plan.squashed.len();
    let first = &plan.squashed[0];
    let mut why = format!(
        "Replaces the {count} migrations from `{}` ({}) to `{}` ({}): the schema and the data they built, in one \
         step, so that a new database no longer replays the whole history. It keeps the revision of `{}`: a \
         database at or past it runs nothing, and its recorded checksum is accepted (`squashes`).\n///\n/// \
         Replaced, in the chain's order:",
        first.rev, first.slug, plan.to_rev, plan.to_slug, plan.to_rev
    );
    // Compact: several per line, lines of about 100 characters.
    let mut line = String::new();
    for squashed in &plan.squashed {
        let item = format!("`{}` {}", squashed.rev, squashed.slug);
        if !line.is_empty() && line.len() + item.len() + 2 > 96 {
            let _ = write!(why, "\n/// {line},");
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&item);
    }
    let _ = write!(why, "\n/// {line}.");
    let mut more = String::new();
    if !plan.labels.is_empty() {
        let quoted: Vec<String> = plan.labels.iter().map(|l| format!("{l:?}")).collect();
        let _ = write!(more, ", branch_labels = [{}]", quoted.join(", "));
    }
    let _ = write!(more, ", transactional = true, squashes = \"{checksum}\"");
    let functions = format!(
        "    pub fn upgrade(op: &mut Op) {{\n        op.execute(include_str!(\"{sql_name}\"));\n    }}\n\n    pub fn \
         downgrade(op: &mut Op) {{\n        op.irreversible(\"it replaces {count} migrations: reverting below it \
         means restoring a backup\");\n    }}\n"
    );
    let rs_text = migration_text(&why, &plan.to_rev, "None", &more, &slug, &functions);
    Ok(Baseline { rs_name, rs_text, sql_name })
}

/// The baseline's SQL from a plain `pg_dump` of the replayed chain: pg_dump's session settings
/// (`SET …`, the empty `search_path`), its comments and psql meta-commands taken out (every
/// name in the dump is schema-qualified, so the runner's `search_path` reads it the same),
/// between [`PREAMBLE`] and [`POSTAMBLE`].
pub(crate) fn baseline_sql(dump: &str) -> String {
    let body = top_level_lines(dump)
        .into_iter()
        .filter(|(top, line)| !(*top && (is_session_line(line) || is_transaction_line(line))))
        .map(|(_, line)| line)
        .collect::<Vec<_>>();
    let mut out = format!("{PREAMBLE}\n\n");
    let mut blank = true;
    for line in body {
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    if !blank {
        out.push('\n');
    }
    out.push_str(POSTAMBLE);
    out.push('\n');
    out
}

/// Whether a line that starts outside any literal is pg_dump's session setting, comment or
/// psql meta-command.
fn is_session_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("--")
        || line.starts_with('\\')
        || line.starts_with("SET ")
        || line.starts_with("SELECT pg_catalog.set_config('search_path'")
}

/// Whether a line that starts outside any literal is pg_dump's own transaction around the
/// large objects' data (`BEGIN;` … `COMMIT;`): in the baseline, run inside the migration's
/// transaction, a `COMMIT` would end that transaction midway.
fn is_transaction_line(line: &str) -> bool {
    matches!(line.trim(), "BEGIN;" | "COMMIT;")
}

/// The lines of `sql`, each with whether it starts outside a string, a quoted name, a
/// dollar-quoted body or a comment: the only lines that may be pg_dump's own.
fn top_level_lines(sql: &str) -> Vec<(bool, &str)> {
    #[derive(Clone, PartialEq)]
    enum State {
        Top,
        Quote { escapes: bool },
        Name,
        Dollar(String),
        Block(usize),
    }
    let mut state = State::Top;
    let mut lines = Vec::new();
    for line in sql.split_inclusive('\n') {
        lines.push((state == State::Top, line.trim_end_matches(['\n', '\r'])));
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match &mut state {
                State::Top => match c {
                    '-' if next == Some('-') => break,
                    '/' if next == Some('*') => {
                        state = State::Block(1);
                        i += 1;
                    }
                    '\'' => {
                        let before = i.checked_sub(1).map(|k| chars[k]);
                        let word = i.checked_sub(2).map(|k| chars[k]);
                        let escapes = matches!(before, Some('E' | 'e'))
                            && !word.is_some_and(|w| w.is_alphanumeric() || w == '_');
                        state = State::Quote { escapes };
                    }
                    '"' => state = State::Name,
                    '$' => {
                        let tag: String =
                            chars[i + 1..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
                        let starts_well = !tag.starts_with(|c: char| c.is_ascii_digit());
                        let after = i + 1 + tag.chars().count();
                        let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
                        if starts_well && before_ok && chars.get(after) == Some(&'$') {
                            state = State::Dollar(tag);
                            i = after;
                        }
                    }
                    _ => {}
                },
                State::Quote { escapes } => match c {
                    '\\' if *escapes => i += 1,
                    '\'' if next == Some('\'') => i += 1,
                    '\'' => state = State::Top,
                    _ => {}
                },
                State::Name => match c {
                    '"' if next == Some('"') => i += 1,
                    '"' => state = State::Top,
                    _ => {}
                },
                State::Dollar(tag) => {
                    let closing: Vec<char> = format!("${tag}$").chars().collect();
                    if chars[i..].starts_with(&closing) {
                        i += closing.len() - 1;
                        state = State::Top;
                    }
                }
                State::Block(depth) => {
                    if c == '/' && next == Some('*') {
                        *depth += 1;
                        i += 1;
                    } else if c == '*' && next == Some('/') {
                        *depth -= 1;
                        i += 1;
                        if *depth == 0 {
                            state = State::Top;
                        }
                    }
                }
            }
            i += 1;
        }
    }
    lines
}

/// The rows of a `pg_dump --data-only --inserts`, one statement each (a row's text may span
/// lines), with the sequences' `setval`s: what is compared of the data.
fn data_statements(dump: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for (top, line) in top_level_lines(dump) {
        if top && current.is_empty() && (line.trim().is_empty() || is_session_line(line)) {
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
        if line.ends_with(';') && ends_at_top(&current) {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        statements.push(current);
    }
    statements
}

/// Whether `text` ends outside any literal (its next line would start at the top level).
fn ends_at_top(text: &str) -> bool {
    top_level_lines(&format!("{text}\n\n")).last().is_some_and(|(top, _)| *top)
}

/// The proof's findings and figures.
#[derive(Default)]
struct Proof {
    /// Lines saying what differs, empty when nothing does.
    differences: Vec<String>,
    /// Schema objects compared, per comparison.
    objects: Vec<usize>,
    /// Rows (and sequence values) compared, per comparison.
    rows: Vec<usize>,
}

impl Proof {
    /// Compares the original (`left`) with the squashed (`right`): schemas through the model,
    /// rows through `pg_dump --data-only --inserts`.
    fn compare(&mut self, left: &ScratchDatabase, right: &ScratchDatabase, when: &str) -> Result<()> {
        let (a, b) = (left.schema()?, right.schema()?);
        self.objects.push(a.len());
        let changes = a.diff(&b);
        if !changes.is_empty() {
            self.differences.push(format!("the schemas differ {when} (~ original → squashed):"));
            self.differences.extend(changes.iter().take(SHOWN_DIFFERENCES).map(|c| format!("  {c}")));
            if changes.len() > SHOWN_DIFFERENCES {
                self.differences.push(format!("  … and {} more", changes.len() - SHOWN_DIFFERENCES));
            }
        }
        let data = ["--data-only", "--inserts"];
        let (mut a, mut b) =
            (data_statements(&pg_dump(left, &data)?), data_statements(&pg_dump(right, &data)?));
        // pg_dump writes a materialized view's query and a REFRESH, never its rows: a view
        // not refreshed since its tables changed holds rows the dump does not rebuild.
        a.extend(left.materialized_rows()?);
        b.extend(right.materialized_rows()?);
        self.rows.push(a.len());
        let lines = differing(&a, &b);
        if !lines.is_empty() {
            self.differences.push(format!("the data differ {when}:"));
            self.differences.extend(lines);
        }
        Ok(())
    }
}

/// The statements only one side has (as multisets), `-` for the left, `+` for the right, the
/// first [`SHOWN_DIFFERENCES`] of each.
fn differing(left: &[String], right: &[String]) -> Vec<String> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for statement in left {
        *counts.entry(statement).or_default() += 1;
    }
    for statement in right {
        *counts.entry(statement).or_default() -= 1;
    }
    let mut out = Vec::new();
    for (sign, side) in [('-', left), ('+', right)] {
        let mut shown = 0;
        let mut more = 0;
        let mut left_counts = counts.clone();
        for statement in side {
            let count = left_counts.entry(statement).or_default();
            let extra = if sign == '-' { *count > 0 } else { *count < 0 };
            if extra {
                *count += if sign == '-' { -1 } else { 1 };
                if shown < SHOWN_DIFFERENCES {
                    out.push(format!("  {sign} {}", statement.replace('\n', "\n    ")));
                    shown += 1;
                } else {
                    more += 1;
                }
            }
        }
        if more > 0 {
            out.push(format!("  {sign} … and {more} more"));
        }
    }
    out
}

/// The temporary copy the candidate folder is built in: the crate's Cargo.toml (with the new
/// `start_after`) and its migrations folder, squashed. Removed when dropped.
struct Candidate {
    dir: PathBuf,
}

impl Drop for Candidate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Candidate {
    /// An empty folder, the same for each run on the crate (so its migrator is rebuilt only
    /// where the migrations changed).
    fn new(project: &Project) -> Result<Candidate> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in project.dir.display().to_string().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let dir = std::env::temp_dir().join(format!("cargo-migrate-squash-{hash:016x}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        Ok(Candidate { dir })
    }

    fn folder(&self, project: &Project) -> PathBuf {
        self.dir.join(&project.settings.folder)
    }

    /// Copies the folder but the removed files, and adds the baseline.
    fn write(
        &self,
        project: &Project,
        plan: &Plan,
        baseline: &Baseline,
        sql: &str,
        manifest: &str,
    ) -> Result<()> {
        let manifest_path = self.dir.join("Cargo.toml");
        std::fs::write(&manifest_path, manifest)
            .with_context(|| format!("cannot write `{}`", manifest_path.display()))?;
        copy_tree(&project.folder(), &self.folder(project), &plan.removed)?;
        let target = self.folder(project);
        // A seal is rewritten by `seal` below; none is copied as it is.
        let _ = std::fs::remove_file(target.join(seal::FILE_NAME));
        std::fs::write(target.join(&baseline.rs_name), &baseline.rs_text)
            .with_context(|| format!("cannot write the baseline into `{}`", target.display()))?;
        std::fs::write(target.join(&baseline.sql_name), sql)
            .with_context(|| format!("cannot write the baseline's SQL into `{}`", target.display()))?;
        Ok(())
    }

    /// The copy as a project whose migrator is built from it (with the crate's own manifest,
    /// dependencies and target folder).
    fn project(&self, project: &Project) -> Result<Project> {
        let settings = Settings::read(&self.dir).map_err(|e| anyhow!("{e}\n= help: {}", e.help()))?;
        Ok(Project { dir: self.dir.clone(), manifest: project.manifest.clone(), settings })
    }

    /// Writes the candidate's seal: the crate's, without the squashed revisions, the baseline
    /// sealed first (it is the base of what stays). Returns its text.
    fn seal(&self, candidate: &Project, plan: &Plan, original: &Seal, baseline_name: &str) -> Result<String> {
        let squashed: BTreeSet<&str> = plan.squashed.iter().map(|s| s.rev.as_str()).collect();
        let kept = original.entries.iter().filter(|e| !squashed.contains(e.rev.as_str())).cloned();
        let folder = candidate.scan_to_seal()?;
        let Some(index) = folder.files.iter().position(|f| f.source.file_name == baseline_name) else {
            bail!("the baseline `{baseline_name}` is missing from the squashed folder");
        };
        let Some(sum) = folder.sum(index) else {
            bail!("cannot seal the baseline `{baseline_name}`: it was not read whole");
        };
        let mut entries = vec![SealEntry {
            rev: plan.to_rev.clone(),
            parents: Vec::new(),
            sum,
            file_name: baseline_name.to_owned(),
            line: 0,
        }];
        entries.extend(kept);
        let sealed = Seal { entries };
        let text = sealed.render(&folder.display);
        let path = self.folder(candidate).join(seal::FILE_NAME);
        std::fs::write(&path, &text).with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(text)
    }
}

/// Copies `from` into `to`, subfolders included, but the files of `except`.
fn copy_tree(from: &Path, to: &Path, except: &[PathBuf]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create `{}`", to.display()))?;
    let entries = std::fs::read_dir(from).with_context(|| format!("cannot read `{}`", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read `{}`", from.display()))?;
        let path = entry.path();
        if except.contains(&path) {
            continue;
        }
        let file_type = entry.file_type().with_context(|| format!("cannot read `{}`", path.display()))?;
        let target = to.join(entry.file_name());
        if file_type.is_dir() {
            copy_tree(&path, &target, except)?;
        } else {
            std::fs::copy(&path, &target).with_context(|| format!("cannot copy `{}`", path.display()))?;
        }
    }
    Ok(())
}

/// Writes a line to stderr (progress: stdout holds the result).
fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Where the proof's throwaway databases are created: `MIGRATE_DEV_URL`'s server, else the
/// database's (`--database-url`, `DATABASE_URL`, `./.env`), as `cargo migrate test` does,
/// else a throwaway PostgreSQL of this machine.
struct Scratch {
    admin_url: String,
    /// Where, for messages (no password).
    shown: String,
    /// The throwaway cluster, stopped when dropped.
    _cluster: Option<testkit::Cluster>,
}

impl Scratch {
    fn new(database_url: Option<&str>) -> Result<Scratch> {
        let dev = std::env::var("MIGRATE_DEV_URL").ok().filter(|u| !u.is_empty());
        // The database's server, found as every database command finds it.
        let given = dev.clone().or_else(|| database::need_url(database_url.map(str::to_owned)).ok());
        match given {
            Some(url) => {
                let what =
                    if dev.is_some() { "the dev server (MIGRATE_DEV_URL)" } else { "the database's server" };
                let shown = format!("throwaway databases of {what}");
                Ok(Scratch { admin_url: url, shown, _cluster: None })
            }
            None => {
                let cluster = testkit::Cluster::start().map_err(|e| {
                    anyhow!(
                        "the squash is proven on throwaway databases, and no PostgreSQL could be started on this \
                         machine for them: {e}\n= help: install the PostgreSQL binaries (initdb, pg_ctl), or set \
                         MIGRATE_DEV_URL (or DATABASE_URL) to a server where databases may be created and dropped"
                    )
                })?;
                Ok(Scratch {
                    admin_url: cluster.url("postgres"),
                    shown: "a throwaway PostgreSQL".to_owned(),
                    _cluster: Some(cluster),
                })
            }
        }
    }

    /// A new empty database, dropped with the value.
    fn create(&self) -> Result<ScratchDatabase> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("migrate_squash_{}_{n}_{nanos:08x}", std::process::id());
        let mut admin = self.admin()?;
        admin.batch_execute(&format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name))).map_err(
            |e| anyhow!("cannot create a throwaway database on {}: {}", self.shown, db_message(&e)),
        )?;
        Ok(ScratchDatabase {
            url: testkit::with_database(&self.admin_url, &name),
            admin_url: self.admin_url.clone(),
            name,
        })
    }

    fn admin(&self) -> Result<postgres::Client> {
        testkit::client(&self.admin_url).map_err(|e| {
            anyhow!(
                "cannot reach {}: {}",
                self.shown,
                without_url_passwords(e.to_string().lines().next().unwrap_or(""))
            )
        })
    }
}

/// A throwaway database, dropped with the value.
struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = testkit::client(&self.admin_url) {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name)));
        }
    }
}

impl ScratchDatabase {
    fn client(&self) -> Result<postgres::Client> {
        testkit::client(&self.url).map_err(|e| anyhow!("cannot connect to a throwaway database: {e}"))
    }

    /// Its schema through the model, the runner's tables left out.
    fn schema(&self) -> Result<Schema> {
        let options = Options::new().ignore_runner_tables(&TableNames::default());
        Schema::read(&mut self.client()?, &options)
            .map_err(|e| anyhow!("cannot read a throwaway database's catalog: {}", db_message(&e)))
    }
}

impl ScratchDatabase {
    /// The rows of every materialized view outside the system schemas, each as
    /// `materialized view schema.name: (row)`, the views by name and each view's rows in the
    /// text's byte order; a view not populated gives one line saying so.
    fn materialized_rows(&self) -> Result<Vec<String>> {
        let mut client = self.client()?;
        let read = |e: postgres::Error| anyhow!("cannot read a materialized view: {}", db_message(&e));
        let views = text_rows(
            &mut client,
            "SELECT format('%I.%I', n.nspname, c.relname), c.relispopulated::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND n.nspname NOT IN \
             ('pg_catalog', 'information_schema') ORDER BY format('%I.%I', n.nspname, c.relname) COLLATE \"C\"",
        )
        .map_err(read)?;
        let mut lines = Vec::new();
        for view in views {
            let [Some(name), Some(populated)] = view.as_slice() else { continue };
            if populated != "true" {
                lines.push(format!("materialized view {name}: not populated"));
                continue;
            }
            let rows = text_rows(
                &mut client,
                &format!("SELECT t::text FROM {name} t ORDER BY t::text COLLATE \"C\""),
            )
            .map_err(read)?;
            for row in rows {
                let text = row.into_iter().next().flatten().unwrap_or_else(|| "NULL".to_owned());
                lines.push(format!("materialized view {name}: {text}"));
            }
        }
        Ok(lines)
    }
}

/// The objects in the user's schemas (schemas, relations, functions, types; not an
/// extension's members) owned by a role other than the one connected (the role that
/// migrates), as `` `owner` of table `public.t` is `role` ``, sorted. `pg_dump --no-owner`
/// drops their owners: restored, they would belong to the role that migrates, and a SECURITY
/// DEFINER function would run with its rights. The `public` schema's default owner (the
/// database's owner, or the bootstrap superuser before PostgreSQL 15) is not counted.
fn foreign_owners(database: &ScratchDatabase) -> Result<Vec<String>> {
    const SQL: &str = "WITH me AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user), \
        ns AS (SELECT oid, nspname, nspowner FROM pg_catalog.pg_namespace WHERE nspname NOT IN ('pg_catalog', \
        'information_schema') AND nspname !~ '^pg_(toast|temp_|toast_temp_)'), \
        ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'), \
        owned AS ( \
          SELECT 'schema' AS kind, format('%I', ns.nspname) AS name, ns.nspowner AS owner FROM ns \
          WHERE NOT (ns.nspname = 'public' AND (ns.nspowner = 10 OR pg_catalog.pg_get_userbyid(ns.nspowner) = \
          'pg_database_owner')) AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_namespace'::regclass \
          AND objid = ns.oid) \
          UNION ALL \
          SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' \
          WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'table' END, format('%I.%I', ns.nspname, \
          c.relname), c.relowner FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace \
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = \
          'pg_catalog.pg_class'::regclass AND objid = c.oid) \
          UNION ALL \
          SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, \
          format('%I.%I(%s)', ns.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)), \
          p.proowner FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace WHERE NOT EXISTS (SELECT 1 FROM \
          ext WHERE classid = 'pg_catalog.pg_proc'::regclass AND objid = p.oid) \
          UNION ALL \
          SELECT 'type', format('%I.%I', ns.nspname, t.typname), t.typowner FROM pg_catalog.pg_type t \
          JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('b', 'd', 'e', 'r') AND t.typcategory <> 'A' \
          AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_type'::regclass AND objid = t.oid)) \
        SELECT kind, name, pg_catalog.pg_get_userbyid(owner) FROM owned WHERE owner <> (SELECT oid FROM me) \
        ORDER BY kind COLLATE \"C\", name COLLATE \"C\"";
    let rows = text_rows(&mut database.client()?, SQL)
        .map_err(|e| anyhow!("cannot read the owners of the replayed objects: {}", db_message(&e)))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Some(kind), Some(name), Some(owner)] => {
                Some(format!("`owner` of {kind} `{}` is `{}`", shown(name), shown(owner)))
            }
            _ => None,
        })
        .collect())
}

/// The server's roles before the first replay, and the roles the replays created since,
/// dropped again (best effort) when dropped, after the throwaway databases that used them.
struct Roles {
    admin_url: String,
    before: BTreeSet<String>,
}

impl Roles {
    /// Notes the roles the server has now.
    fn before(scratch: &Scratch) -> Result<Roles> {
        let before = role_names(&mut scratch.admin()?)
            .map_err(|e| anyhow!("cannot read the roles of {}: {}", scratch.shown, db_message(&e)))?;
        Ok(Roles { admin_url: scratch.admin_url.clone(), before })
    }

    /// The roles created since, sorted.
    fn made(&self) -> Result<Vec<String>> {
        let mut admin = testkit::client(&self.admin_url).map_err(|e| {
            anyhow!(
                "cannot read the server's roles: {}",
                without_url_passwords(e.to_string().lines().next().unwrap_or(""))
            )
        })?;
        let now = role_names(&mut admin)
            .map_err(|e| anyhow!("cannot read the server's roles: {}", db_message(&e)))?;
        Ok(now.difference(&self.before).cloned().collect())
    }

    /// Drops the roles created since; returns those still there, each with the reason.
    fn sweep(&self) -> Vec<String> {
        let Ok(made) = self.made() else { return Vec::new() };
        let Ok(mut admin) = testkit::client(&self.admin_url) else {
            return made.into_iter().map(|r| format!("`{}`", shown(&r))).collect();
        };
        let mut kept = Vec::new();
        for role in made {
            if let Err(e) = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(&role))) {
                kept.push(format!("`{}` ({})", shown(&role), db_message(&e)));
            }
        }
        kept
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        let _ = self.sweep();
    }
}

/// A name as printed: its control characters escaped, so a name cannot forge output lines.
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// The names of the server's roles.
fn role_names(client: &mut postgres::Client) -> std::result::Result<BTreeSet<String>, postgres::Error> {
    Ok(text_rows(client, "SELECT rolname FROM pg_catalog.pg_roles")?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}

/// Refuses a squash whose replay created roles or left objects owned by another role: a
/// baseline is one database's dump, without roles or owners.
fn refuse_unkept(
    made: &[String],
    kept: &[String],
    owners: &[String],
    failed: Option<anyhow::Error>,
    args: &[String],
) -> Result<Exit> {
    let mut said = Vec::new();
    let mut help = Vec::new();
    if !made.is_empty() {
        let names: Vec<String> = made.iter().map(|r| format!("`{}`", shown(r))).collect();
        outln!(
            "the squashed migrations create role{} {}",
            if made.len() == 1 { "" } else { "s" },
            names.join(", ")
        )?;
        said.push("create roles, which a baseline cannot carry");
        help.push(
            "a role belongs to the server (all its databases), not to a database's migration: cluster-wide objects \
             cannot be squashed into one; keep the migrations that create roles and squash to a revision below them",
        );
    }
    for line in owners {
        outln!("{line}")?;
    }
    if !owners.is_empty() {
        said.push(
            "leave objects owned by a role other than the one that migrates, which a baseline cannot keep",
        );
        help.push(
            "a squash writes objects owned by the role that migrates (its dump has no owners): keep the migrations \
             that set those owners, squash to a revision below them",
        );
    }
    let mut message = format!("nothing squashed: the squashed migrations {} (above)", said.join(", and "));
    if let Some(error) = failed {
        let _ = write!(message, "; and then: {error:#}");
    }
    for line in help {
        let _ = write!(message, "\n= help: {line}");
    }
    if !made.is_empty() {
        if kept.is_empty() {
            message.push_str("\n= note: the roles the replay created were dropped again");
        } else {
            let _ = write!(
                message,
                "\n= note: roles the replay created are still on the server, drop them by hand: {}",
                kept.join(", ")
            );
        }
    }
    database::report_error(&message, args);
    Ok(Exit::Failed)
}

/// Runs the migrator `binary` to `target` on `database`; its output becomes the error.
fn migrate(binary: &Path, database: &ScratchDatabase, target: &str, what: &str) -> Result<()> {
    let output = Command::new(binary)
        .args(["upgrade", target])
        .env("DATABASE_URL", &database.url)
        .env_remove("MIGRATE_DEV_URL")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", binary.display()))?;
    if !output.status.success() {
        let said =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        bail!(
            "{what} does not apply up to `{target}` on an empty database:\n{}",
            without_url_passwords(said.trim_end())
        );
    }
    Ok(())
}

/// The checksum the history table recorded for the upgrade of `rev`.
fn recorded_checksum(database: &ScratchDatabase, rev: &str) -> Result<String> {
    let tables = TableNames::default();
    let sql = format!(
        "SELECT checksum FROM {}.{} WHERE revision = {} AND direction = 'upgrade' AND success ORDER BY id DESC LIMIT 1",
        quote_ident(tables.schema()),
        quote_ident(tables.history()),
        quote_literal(rev)
    );
    let rows = database
        .client()?
        .query(&sql, &[])
        .map_err(|e| anyhow!("cannot read the history: {}", db_message(&e)))?;
    let checksum: Option<String> = rows.first().and_then(|row| row.get(0));
    match checksum {
        Some(sum)
            if sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) =>
        {
            Ok(sum)
        }
        _ => bail!("the replay recorded no checksum for `{rev}`, which the baseline must carry (`squashes`)"),
    }
}

/// `pg_dump` of `database` with `flags`, the runner's tables left out; the connection goes in
/// libpq's environment, never on its command line (which every user of the machine can read).
fn pg_dump(database: &ScratchDatabase, flags: &[&str]) -> Result<String> {
    let mut command = testkit::pg_dump(&database.url).map_err(|e| {
        anyhow!(
            "cannot run pg_dump on the throwaway database: {}\n= help: install PostgreSQL's client programs, or set \
             MIGRATE_DEV_URL to a plain `postgres://user:password@host:port/db` URL",
            without_url_passwords(&e.to_string())
        )
    })?;
    command.args(flags);
    let tables = TableNames::default();
    for table in [tables.version().to_owned(), tables.history().to_owned(), tables.lease()] {
        // A pattern: quoted, the name is matched exactly.
        let pattern = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        command.arg(format!("--exclude-table={}.{}", pattern(tables.schema()), pattern(&table)));
    }
    let output = command.stdin(Stdio::null()).output().context("cannot run pg_dump")?;
    if !output.status.success() {
        bail!(
            "pg_dump failed: {}",
            without_url_passwords(String::from_utf8_lossy(&output.stderr).trim_end())
        );
    }
    String::from_utf8(output.stdout).context("pg_dump printed something that is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_keeps_its_statements_and_loses_its_session() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\nSET statement_timeout = 0;\nSET lock_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n--\n-- Name: f(); Type: FUNCTION\n--\n\nCREATE FUNCTION public.f() RETURNS int\n    LANGUAGE sql\n    AS $$\n-- a comment of the function's own\nSET x = 1;\nSELECT 1\n$$;\n\nSET default_tablespace = '';\n\nINSERT INTO public.t VALUES (1, 'two\n-- lines\nSET y');\nINSERT INTO public.t VALUES (2, E'it\\'s\nSET z');\nCOMMENT ON TABLE public.\"odd\"\"--name\" IS 'x';\n\\unrestrict abc\n";
        assert_eq!(
            baseline_sql(dump),
            "SET LOCAL check_function_bodies = off;\n\nCREATE FUNCTION public.f() RETURNS int\n    LANGUAGE sql\n    AS $$\n-- a comment of the function's own\nSET x = 1;\nSELECT 1\n$$;\n\nINSERT INTO public.t VALUES (1, 'two\n-- lines\nSET y');\nINSERT INTO public.t VALUES (2, E'it\\'s\nSET z');\nCOMMENT ON TABLE public.\"odd\"\"--name\" IS 'x';\n\nRESET check_function_bodies;\n"
        );
    }

    #[test]
    fn the_large_objects_transaction_is_taken_out_and_a_procedures_is_kept() {
        let dump = "SELECT pg_catalog.lo_create('424242');\n\nBEGIN;\n\nSELECT pg_catalog.lo_open('424242', 131072);\nSELECT pg_catalog.lowrite(0, '\\x6869');\nSELECT pg_catalog.lo_close(0);\n\nCOMMIT;\n\nCREATE PROCEDURE public.p()\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\nCOMMIT;\nEND\n$$;\nINSERT INTO public.t VALUES ('\nBEGIN;\n');\n";
        assert_eq!(
            baseline_sql(dump),
            "SET LOCAL check_function_bodies = off;\n\nSELECT pg_catalog.lo_create('424242');\n\nSELECT pg_catalog.lo_open('424242', 131072);\nSELECT pg_catalog.lowrite(0, '\\x6869');\nSELECT pg_catalog.lo_close(0);\n\nCREATE PROCEDURE public.p()\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\nCOMMIT;\nEND\n$$;\nINSERT INTO public.t VALUES ('\nBEGIN;\n');\n\nRESET check_function_bodies;\n"
        );
    }

    #[test]
    fn tagged_dollar_quotes_and_positional_parameters_are_told_apart() {
        let sql = "CREATE FUNCTION g(int) RETURNS int AS $body$\nSELECT $1 -- $$\n$body$ LANGUAGE sql;\nSET a = 1;\n";
        let lines = top_level_lines(sql);
        assert_eq!(lines.iter().map(|(top, _)| *top).collect::<Vec<_>>(), [true, false, false, true]);
    }

    #[test]
    fn data_statements_are_compared_whole() {
        let dump = "SET x = 1;\n-- c\nINSERT INTO public.t VALUES (1, 'a\nb;');\nINSERT INTO public.t VALUES (2, 'c');\nSELECT pg_catalog.setval('public.t_id_seq', 2, true);\n";
        let statements = data_statements(dump);
        assert_eq!(statements.len(), 3, "{statements:?}");
        assert_eq!(statements[0], "INSERT INTO public.t VALUES (1, 'a\nb;');");
        let other = vec![
            statements[0].clone(),
            statements[2].clone(),
            "INSERT INTO public.t VALUES (2, 'd');".into(),
        ];
        assert_eq!(
            differing(&statements, &other),
            ["  - INSERT INTO public.t VALUES (2, 'c');", "  + INSERT INTO public.t VALUES (2, 'd');"]
        );
    }

    #[test]
    fn start_after_is_set_and_nothing_else_changes() {
        let configured = "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nfolder = \"db\"  # ours\nstart_after = \"old\"\n\n[dependencies]\n";
        assert_eq!(
            with_start_after(configured, "a1b2c3d4e5f6").expect("replaces"),
            "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nfolder = \"db\"  # ours\nstart_after = \"a1b2c3d4e5f6\"\n\n[dependencies]\n"
        );
        let inline = "[package]\nname = \"x\"\nmetadata = { migrate = { folder = \"db\" } }\n";
        assert!(with_start_after(inline, "a1b2c3d4e5f6").is_err());
    }
}

//! `prune --not-in <url>`: removes the migrations a database never got, after its head, so that
//! the folder's head is the database's again (the guide's "remove test migrations that were never
//! deployed", before stamping again).
//!
//! The database's version rows say what it applied: each row and its ancestors, through parents
//! and dependencies. What grows from an applied migration through down revisions and is not
//! applied was never deployed there: it is pruned, unless a migration that stays needs it (a
//! migration of another tree depending on it, or the one `start_after` names), which then stays
//! too, with the reason. Nothing is removed without `--yes`, nor when a migration to prune is
//! sealed, nor when the database or the folder cannot say what was deployed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};
use migrate_build::{Folder, ScannedFile};
use migrate_core::diagnostic::RuleId;
use migrate_core::graph::{Graph, NodeId, Problem, Revision};
use migrate_core::rules::stray_file::IMPORTED;
use migrate_core::seal::{self, Seal};
use migrate_core::text::without_url_passwords;
use migrate_core::version::Tables;
use migrate_runtime::cli::Exit;

use crate::project::printable;
use crate::project::{History, Project};

/// The rules whose problems leave the graph unknown: with them, what grows from the database's
/// head cannot be told, nor whether removing a file leaves another one without its parent.
const GRAPH_RULES: &[RuleId] = &[
    RuleId::DuplicateRevision,
    RuleId::UnknownDownRevision,
    RuleId::RevisionCycle,
    RuleId::UnknownDependsOn,
    RuleId::DependencyCycle,
    RuleId::DuplicateBranchLabel,
];

/// Why a migration that was never deployed stays.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Need {
    /// `by`, which stays, needs it (through its parents or `depends_on`), by way of `via` (the
    /// migration that names it; `by` itself when it names it directly).
    By {
        /// The migration that stays.
        by: NodeId,
        /// The one naming the kept migration.
        via: NodeId,
    },
    /// `start_after` in Cargo.toml names it, or a revision it is an ancestor of.
    StartAfter(NodeId),
}

/// What the graph and the database's rows decide.
#[derive(Debug, Default, PartialEq, Eq)]
struct Planned {
    /// The migrations never deployed that go, newest first.
    pruned: Vec<NodeId>,
    /// The migrations never deployed that stay, newest first, with why.
    kept: Vec<(NodeId, Need)>,
}

/// Decides what goes: the migrations reached from an applied one through children that are not
/// applied, but those a migration that stays needs (or `start_after` names).
fn plan(graph: &Graph, rows: &[NodeId], start_after: Option<NodeId>) -> Planned {
    let applied = graph.ancestors(rows);
    // Never deployed: grown from an applied migration through down revisions.
    let mut candidate = vec![false; graph.len()];
    let mut queue: VecDeque<NodeId> = (0..graph.len()).filter(|&n| applied[n]).collect();
    while let Some(node) = queue.pop_front() {
        for child in graph.children(node) {
            if !applied[child] && !candidate[child] {
                candidate[child] = true;
                queue.push_back(child);
            }
        }
    }
    // What stays needs its parents and dependencies: walk down from each, in the chain's order,
    // the first to reach a migration being its reason.
    let mut need: Vec<Option<Need>> = vec![None; graph.len()];
    let mut roots: Vec<(NodeId, Option<NodeId>)> = Vec::new();
    if let Some(start) = start_after {
        roots.push((start, None));
    }
    roots.extend(graph.linear().iter().filter(|&&n| !candidate[n]).map(|&n| (n, Some(n))));
    for (root, by) in roots {
        let mut queue = VecDeque::new();
        match by {
            // `start_after` itself stays when it is a candidate.
            None if candidate[root] && need[root].is_none() => {
                need[root] = Some(Need::StartAfter(root));
                queue.push_back(root);
            }
            None => {}
            Some(_) => queue.push_back(root),
        }
        while let Some(node) = queue.pop_front() {
            for required in graph.requires(node) {
                if !candidate[required] || need[required].is_some() {
                    continue;
                }
                need[required] = Some(match by {
                    Some(by) => Need::By { by, via: node },
                    None => Need::StartAfter(root),
                });
                queue.push_back(required);
            }
        }
    }
    let mut planned = Planned::default();
    for &node in graph.linear().iter().rev().filter(|&&n| candidate[n]) {
        match &need[node] {
            Some(why) => planned.kept.push((node, why.clone())),
            None => planned.pruned.push(node),
        }
    }
    planned
}

/// `path` without its `.` components, each `..` taking the component before it away, as
/// `include_str!` resolves it (and as the build compares included files).
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The text of `imported.toml` without the entries of `removed` revisions; `None` when it has
/// none of them. Refused when the file is not laid out as `import` writes it (one entry a
/// line), so that no entry is lost or kept by a guess.
fn imported_without(text: &str, removed: &BTreeSet<&str>, shown: &str) -> Result<Option<String>> {
    let by_hand = format!(
        "= help: remove the lines of those revisions from `{shown}` by hand (or restore it as `cargo migrate import` \
         wrote it), then prune again; nothing was removed"
    );
    let versions = |text: &str| -> Option<toml::Table> {
        text.parse::<toml::Table>().ok()?.get("versions")?.as_table().cloned()
    };
    let Some(before) = versions(text) else {
        bail!("cannot read `{shown}`: it is not TOML with a [versions] table\n{by_hand}");
    };
    let gone = |value: &toml::Value| value.as_str().is_some_and(|rev| removed.contains(rev));
    let mut expected = before.clone();
    expected.retain(|_, value| !gone(value));
    if expected.len() == before.len() {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut section = String::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_owned();
        }
        let drop = section == "[versions]"
            && line.parse::<toml::Table>().is_ok_and(|entry| entry.len() == 1 && entry.values().all(gone));
        if !drop {
            out.push_str(line);
        }
    }
    if versions(&out).as_ref() != Some(&expected) {
        bail!(
            "`{shown}` is not laid out as `cargo migrate import` writes it (one `\"version\" = \"revision\"` line \
             each under [versions]): its entries for the migrations to prune cannot be removed safely\n{by_hand}"
        );
    }
    Ok(Some(out))
}

/// The version rows of the database at `url`, refused when it has none.
fn version_rows(url: &str) -> Result<Vec<String>> {
    // Connection errors name `user@host:port/database`, never the password; the rest is
    // cleaned again, for a server quoting a connection string back.
    let hide = |text: &str| without_url_passwords(&text.replace(url, "(the --not-in URL)"));
    let mut client = migrate_runtime::testkit::client(url).map_err(|e| {
        // The runtime's help speaks of DATABASE_URL, where the database commands find it: here
        // the URL is the one of --not-in.
        let text = hide(&e.to_string()).replace("DATABASE_URL", "the URL given to --not-in");
        let (message, help) =
            text.split_once("\n= help: ").unwrap_or((text.as_str(), "check the URL given to --not-in"));
        anyhow::anyhow!(
            "cannot connect to the database of --not-in: {message}\n= help: {help}; nothing was removed"
        )
    })?;
    let mut rows = |sql: &str| -> Result<Vec<Option<String>>> {
        let rows = crate::project::text_rows(&mut client, sql).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the version rows of the database of --not-in: {}",
                hide(&crate::project::db_message(&e))
            )
        })?;
        Ok(rows.into_iter().map(|row| row.into_iter().next().flatten()).collect())
    };
    let tables = Tables::default();
    let table = format!("{}.{}", tables.schema, tables.version);
    let exists = rows(&tables.exist_sql())?;
    if exists.first().cloned().flatten().as_deref() != Some("t") {
        bail!(
            "the database of --not-in has no version table `{table}`: it is at base, so every migration of the \
             folder would be pruned\n= help: check that --not-in names the database the migrations were deployed to; \
             nothing was removed"
        );
    }
    let [sql, _, _] = tables.state_sql();
    let mut found: Vec<String> = rows(&sql)?.into_iter().flatten().collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        bail!(
            "the database of --not-in has no version rows in `{table}`: it is at base, so every migration of the \
             folder would be pruned\n= help: check that --not-in names the database the migrations were deployed to; \
             nothing was removed"
        );
    }
    Ok(found)
}

/// Refuses a folder whose graph cannot be read as the build reads it, naming each problem.
fn refuse_unreadable(project: &Project, folder: &Folder) -> Result<()> {
    let checked = folder.check(&project.settings.config);
    if let Some(error) = checked.setting_errors.first() {
        bail!(
            "invalid [package.metadata.migrate] in `{}`: {error}\n= help: fix it, then prune again; nothing was removed",
            project.manifest.display()
        );
    }
    let mut problems = Vec::new();
    for file in &folder.files {
        let at = |line: usize, column: usize| format!("{}:{line}:{column}", printable(&file.source.display));
        if let Some(error) = &file.parse_error {
            problems.push(format!("{}: not valid Rust: {}", at(error.line, error.column), error.message));
        }
        if let Some(position) = file.too_deep {
            problems.push(format!("{}: nested too deep to be read", at(position.line, position.column)));
        }
        for (message, position) in &file.syntax_errors {
            let message = message.split("\n= help: ").next().unwrap_or(message);
            problems.push(format!("{}: {message}", at(position.line, position.column)));
        }
    }
    for diagnostic in checked.diagnostics.iter().filter(|d| GRAPH_RULES.contains(&d.rule)) {
        let place = match (folder.file(diagnostic), folder.position(diagnostic)) {
            (Some(file), Some(p)) => format!("{}:{}:{}", printable(&file.source.display), p.line, p.column),
            (Some(file), None) => printable(&file.source.display),
            _ => printable(&diagnostic.file),
        };
        problems.push(format!("{place}: error[{}]: {}", diagnostic.rule, diagnostic.message));
    }
    if let Some(seal) = &folder.seal
        && let Err(error) = &seal.seal
    {
        problems.push(format!(
            "{}:{}: error[{}]: {}",
            printable(&seal.display),
            error.line,
            RuleId::UnreadableSeal,
            error.message
        ));
    }
    if !problems.is_empty() {
        let mut message = format!(
            "the migrations folder `{}` has {} the build would report, so what was never deployed cannot be told:",
            printable(&folder.display),
            if problems.len() == 1 { "a problem".to_owned() } else { format!("{} problems", problems.len()) }
        );
        for problem in &problems {
            let _ = write!(message, "\n  {problem}");
        }
        message.push_str("\n= help: fix them (`cargo migrate check` shows each with its help), then prune again; nothing was removed");
        bail!(message);
    }
    Ok(())
}

/// A file of the folder that only migrations to prune include.
#[derive(Debug)]
struct Included {
    /// Its path as the migrations spell it, in the folder.
    shown: PathBuf,
    /// Its real path (symbolic links resolved), the one removed.
    real: PathBuf,
    /// The index in [`Removal::files`] of the last migration removed that includes it: it goes
    /// right after that one, so that no migration left is without the files it includes.
    after: usize,
}

/// The entries of `imported.toml` that go with the migrations.
#[derive(Debug)]
struct Imported {
    /// Its path.
    path: PathBuf,
    /// Its path as shown.
    shown: String,
    /// Its text now.
    text: String,
    /// How many entries go.
    gone: usize,
}

/// What removing the pruned migrations touches.
#[derive(Debug)]
struct Removal {
    /// The migrations folder's real path (symbolic links resolved).
    root: PathBuf,
    /// The migrations, newest first: each revision with its file's real path.
    files: Vec<(String, PathBuf)>,
    /// The files they include that no migration left includes, sorted by path.
    included: Vec<Included>,
    /// The files of the folder they include that stay though no migration left includes them,
    /// sorted by path, with why.
    kept: Vec<(PathBuf, String)>,
    /// `imported.toml`, when it has entries of theirs.
    imported: Option<Imported>,
}

/// One removal of `--yes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The migration file `Removal::files[i]`.
    Migration(usize),
    /// The included file `Removal::included[i]`.
    Included(usize),
}

/// The order of the removals: the migrations newest first, children before parents, each
/// followed by the files that only it (and the migrations removed before it) included. Every
/// state on the way is a folder the build reads, and a second `prune` finds what is left, so a
/// removal failing part way leaves nothing broken. `imported.toml` is written after them all.
fn steps(removal: &Removal) -> Vec<Step> {
    let mut steps = Vec::new();
    for index in 0..removal.files.len() {
        steps.push(Step::Migration(index));
        steps.extend(
            removal
                .included
                .iter()
                .enumerate()
                .filter(|(_, i)| i.after == index)
                .map(|(i, _)| Step::Included(i)),
        );
    }
    steps
}

/// `path` relative to `root` when it lies strictly inside it.
fn inside<'a>(path: &'a Path, root: &Path) -> Option<&'a Path> {
    path.strip_prefix(root).ok().filter(|rest| rest.components().next().is_some())
}

/// Works out the files to remove, newest first (`pruned`), and checks that what stays still
/// builds as a graph. Files are judged by their real paths: two spellings of one file (through
/// a symbolic link) are one file, a file whose real path is outside the real folder is never
/// removed, nor one reached through a symbolic link.
fn removal(
    project: &Project,
    folder: &Folder,
    by_rev: &BTreeMap<&str, &ScannedFile>,
    pruned: &[&str],
) -> Result<Removal> {
    let pruned_set: BTreeSet<&str> = pruned.iter().copied().collect();
    let root = normalize(&folder.path);
    let real_root = std::fs::canonicalize(&folder.path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the migrations folder `{}`: {e}; nothing was removed",
            printable(&folder.display)
        )
    })?;
    let rev_of = |file: &ScannedFile| file.source.modules.first().and_then(|m| m.rev.clone());
    let staying: Vec<&ScannedFile> = folder
        .files
        .iter()
        .filter(|f| rev_of(f).is_none_or(|rev| !pruned_set.contains(rev.as_str())))
        .collect();
    // What stays must still be a graph without a missing parent or dependency.
    let revisions: Vec<Revision> = staying
        .iter()
        .filter_map(|f| {
            let module = f.source.modules.first()?;
            Some(Revision {
                rev: module.rev.clone()?,
                parents: module.down_revision.parents().into_iter().map(str::to_owned).collect(),
                depends_on: module.depends_on.clone(),
                labels: module.branch_labels.clone(),
                key: f.source.file_name.clone(),
            })
        })
        .collect();
    let (_, problems) = Graph::build(&revisions);
    let dangling: Vec<&Problem> = problems
        .iter()
        .filter(|p| matches!(p, Problem::UnknownParent { .. } | Problem::UnknownDependency { .. }))
        .collect();
    if !dangling.is_empty() {
        bail!(
            "removing the migrations to prune would leave the others a graph the build refuses ({dangling:?})\n= help: \
             this is a bug of `cargo migrate prune`; nothing was removed"
        );
    }
    // What the compiler reads: the real file, whatever the spelling.
    let real = |path: &Path| std::fs::canonicalize(path).ok();
    let kept_includes: BTreeSet<PathBuf> =
        staying.iter().flat_map(|f| f.included.iter().filter_map(|p| real(p))).collect();
    let migration_files: BTreeSet<PathBuf> =
        folder.files.iter().filter_map(|f| real(&folder.path.join(&f.source.file_name))).collect();
    let mut files = Vec::new();
    let mut included: BTreeMap<PathBuf, Included> = BTreeMap::new();
    let mut kept: BTreeMap<PathBuf, String> = BTreeMap::new();
    for &rev in pruned {
        let Some(file) = by_rev.get(rev) else { continue };
        let index = files.len();
        files.push((rev.to_owned(), real_root.join(&file.source.file_name)));
        for path in &file.included {
            // Only what the migrations spell as a file of the folder, and only a file: a
            // missing one has nothing to remove.
            let spelled = normalize(path);
            let Some(rest) = inside(&spelled, &root) else { continue };
            let Some(real) = real(path).filter(|r| std::fs::symlink_metadata(r).is_ok_and(|m| m.is_file()))
            else {
                continue;
            };
            let Some(real_rest) = inside(&real, &real_root) else {
                kept.entry(spelled).or_insert_with(|| {
                    format!(
                        "its real path {} is outside the migrations folder",
                        printable(&shown_path(project, &real))
                    )
                });
                continue;
            };
            // Never the seal or the import's mapping, never a migration file, never one a
            // migration that stays includes, in any spelling.
            let special = real.parent() == Some(real_root.as_path())
                && real.file_name().is_some_and(|n| n == seal::FILE_NAME || n == IMPORTED);
            if special || migration_files.contains(&real) || kept_includes.contains(&real) {
                continue;
            }
            if rest != real_rest {
                kept.entry(spelled).or_insert_with(|| {
                    format!(
                        "it is reached through a symbolic link (its real path is {}), and nothing is removed through one",
                        printable(&shown_path(project, &real))
                    )
                });
                continue;
            }
            included.entry(real.clone()).and_modify(|i| i.after = index).or_insert(Included {
                shown: spelled,
                real,
                after: index,
            });
        }
    }
    // A file kept under one spelling is kept under every other.
    let mut included: Vec<Included> =
        included.into_values().filter(|i| !kept.contains_key(&i.shown)).collect();
    included.sort_by(|a, b| a.shown.cmp(&b.shown));
    let imported_path = folder.path.join(IMPORTED);
    let imported = match std::fs::read_to_string(&imported_path) {
        Ok(text) => {
            let shown = format!("{}/{IMPORTED}", folder.display);
            imported_without(&text, &pruned_set, &shown)?.map(|new| {
                let count = |t: &str| {
                    t.parse::<toml::Table>()
                        .ok()
                        .and_then(|t| t.get("versions")?.as_table().map(toml::Table::len))
                        .unwrap_or(0)
                };
                let gone = count(&text) - count(&new);
                Imported { path: imported_path.clone(), shown, text, gone }
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => bail!("cannot read `{}/{IMPORTED}`: {e}; nothing was removed", folder.display),
    };
    Ok(Removal { root: real_root, files, included, kept: kept.into_iter().collect(), imported })
}

/// What `--yes` removed, in the order it did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Removed {
    /// The revisions whose files went.
    migrations: Vec<String>,
    /// The included files that went, as the migrations spelled them.
    included: Vec<PathBuf>,
    /// The folders left empty that went.
    folders: Vec<PathBuf>,
    /// How many entries of `imported.toml` went.
    imported: usize,
}

/// Removes what `removal` says, in the order of [`steps`], through `remove_file`; then writes
/// `imported.toml`. When a removal fails, `imported.toml` loses the entries of the migrations
/// already removed (so that the folder is as a `prune` of fewer migrations leaves it), and the
/// error says what went and that a second prune removes the rest.
fn execute(
    removal: &Removal,
    shown: &dyn Fn(&Path) -> String,
    remove_file: &mut dyn FnMut(&Path) -> std::io::Result<()>,
) -> Result<Removed> {
    let mut removed = Removed::default();
    for step in steps(removal) {
        let result = match step {
            Step::Migration(index) => {
                let (rev, path) = &removal.files[index];
                remove_file(path)
                    .map(|()| removed.migrations.push(rev.clone()))
                    .map_err(|e| (path, e.to_string()))
            }
            Step::Included(index) => {
                let included = &removal.included[index];
                // Read again: a symbolic link put on the way since is not followed.
                if std::fs::canonicalize(&included.real).ok().as_ref() != Some(&included.real) {
                    Err((
                        &included.shown,
                        "it changed since it was read (a symbolic link on the way)".to_owned(),
                    ))
                } else {
                    remove_file(&included.real)
                        .map(|()| {
                            removed.included.push(included.shown.clone());
                            removed.folders.extend(remove_emptied(
                                &removal.root,
                                &included.real,
                                &included.shown,
                            ));
                        })
                        .map_err(|e| (&included.shown, e.to_string()))
                }
            }
        };
        if let Err((path, error)) = result {
            return Err(partly_failed(removal, &removed, shown, path, &error));
        }
    }
    if let Some(imported) = &removal.imported {
        let gone: BTreeSet<&str> = removed.migrations.iter().map(String::as_str).collect();
        let new = imported_without(&imported.text, &gone, &imported.shown)?;
        if let Some(new) = new {
            std::fs::write(&imported.path, new).map_err(|e| {
                anyhow::anyhow!(
                    "cannot write `{}`: {e}\n= help: the migrations were removed; remove the lines of {} from it by hand",
                    printable(&imported.shown),
                    removed.migrations.join(", ")
                )
            })?;
            removed.imported = imported.gone;
        }
    }
    Ok(removed)
}

/// Removes the folders between `real` (a file just removed) and `root` that it left empty, as
/// `stray_file` would report them; returns them as spelled (`shown`'s parents).
fn remove_emptied(root: &Path, real: &Path, shown: &Path) -> Vec<PathBuf> {
    let mut emptied = Vec::new();
    let (mut dir, mut spelled) = (real.parent(), shown.parent());
    while let (Some(d), Some(s)) = (dir, spelled) {
        if inside(d, root).is_none()
            || !std::fs::symlink_metadata(d).is_ok_and(|m| m.is_dir())
            || !std::fs::read_dir(d).is_ok_and(|mut entries| entries.next().is_none())
            || std::fs::remove_dir(d).is_err()
        {
            break;
        }
        emptied.push(s.to_path_buf());
        (dir, spelled) = (d.parent(), s.parent());
    }
    emptied
}

/// The error of a removal failing at `path`: what went already, with the `imported.toml`
/// entries of the migrations that went.
fn partly_failed(
    removal: &Removal,
    removed: &Removed,
    shown: &dyn Fn(&Path) -> String,
    path: &Path,
    error: &str,
) -> anyhow::Error {
    let mut done: Vec<String> = removed.migrations.iter().map(|rev| printable(rev)).collect();
    done.extend(removed.included.iter().chain(&removed.folders).map(|p| printable(&shown(p))));
    let mut imported_note = String::new();
    if let Some(imported) = &removal.imported {
        let gone: BTreeSet<&str> = removed.migrations.iter().map(String::as_str).collect();
        match imported_without(&imported.text, &gone, &imported.shown) {
            Ok(None) => {}
            Ok(Some(new)) => match std::fs::write(&imported.path, new) {
                Ok(()) => done.push(format!("their entries of {}", printable(&imported.shown))),
                Err(e) => {
                    imported_note = format!(
                        "; `{}` could not be written ({e}): remove the lines of the migrations removed from it by hand",
                        printable(&imported.shown)
                    );
                }
            },
            Err(e) => imported_note = format!("; {e}"),
        }
    }
    let done = if done.is_empty() {
        "nothing was removed".to_owned()
    } else {
        format!(
            "removed already, newest first: {} (what is left still builds, and a second prune finds the rest)",
            done.join(", ")
        )
    };
    anyhow::anyhow!(
        "cannot remove `{}`: {error}\n= help: {done}{imported_note}; fix the cause, then prune again",
        printable(&shown(path))
    )
}

/// Lists (or, with `yes`, removes) the migrations of the folder that the database at `url`
/// never got. Refusals are errors (exit 3), and remove nothing; `main` prints them with the
/// command line's connection strings hidden (`_args`), and no message here holds the URL.
pub(crate) fn run(project: &Project, url: &str, yes: bool) -> Result<Exit> {
    let folder = project.scan()?;
    refuse_unreadable(project, &folder)?;
    let history = History::of(&folder);
    let graph = &history.graph;
    let rows = version_rows(url)?;
    let mut nodes = Vec::new();
    for row in &rows {
        match graph.node(row) {
            Some(node) => nodes.push(node),
            None => bail!(
                "the database of --not-in is at `{}`, a revision no migration of `{}` has: the database is ahead of \
                 this folder (or ran another history), so what it never got cannot be told\n= help: bring in the \
                 migrations deployed to it (pull, or check out the branch that deployed them), or check that \
                 --not-in names the right database; nothing was removed",
                printable(row),
                printable(&folder.display)
            ),
        }
    }
    let start_after = project.settings.config.start_after.as_deref().and_then(|rev| graph.node(rev));
    let planned = plan(graph, &nodes, start_after);
    let sealed: Option<Seal> = folder.seal.as_ref().and_then(|s| s.seal.as_ref().ok().cloned());
    let is_sealed = |node: NodeId| sealed.as_ref().is_some_and(|s| s.get(graph.rev(node)).is_some());
    let at = rows.iter().map(|r| printable(r)).collect::<Vec<_>>().join(", ");
    if planned.pruned.is_empty() && planned.kept.is_empty() {
        outln!(
            "nothing to prune: the database of --not-in (at {at}) has every migration that grows from its head"
        )?;
        return Ok(Exit::Done);
    }

    let entry = |node: NodeId| &history.entries[node];
    let width = |nodes: &mut dyn Iterator<Item = NodeId>, f: &dyn Fn(NodeId) -> usize| {
        nodes.map(f).max().unwrap_or(0)
    };
    let listed: Vec<NodeId> =
        planned.pruned.iter().copied().chain(planned.kept.iter().map(|(n, _)| *n)).collect();
    let rev_width = width(&mut listed.iter().copied(), &|n| printable(graph.rev(n)).chars().count());
    let slug_width = width(&mut listed.iter().copied(), &|n| printable(&entry(n).slug).chars().count());
    let line = |node: NodeId| {
        format!(
            "  {:rev_width$}  {:slug_width$}  {}",
            printable(graph.rev(node)),
            printable(&entry(node).slug),
            printable(&entry(node).file)
        )
    };
    let seal_display = folder.seal.as_ref().map_or_else(String::new, |s| printable(&s.display));
    let plural =
        |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };

    let mut said = String::new();
    if planned.pruned.is_empty() {
        let _ = writeln!(
            said,
            "nothing to prune: the database of --not-in (at {at}) never got these migrations, but each must stay:"
        );
    } else {
        let _ = writeln!(
            said,
            "{} never deployed to the database of --not-in (at {at}), newest first:",
            plural(planned.pruned.len(), "migration", "migrations")
        );
        for &node in &planned.pruned {
            let mark = if is_sealed(node) {
                format!("  (sealed in {seal_display}: cannot be removed)")
            } else {
                String::new()
            };
            let _ = writeln!(said, "{}{mark}", line(node));
        }
    }
    if !planned.kept.is_empty() {
        if !planned.pruned.is_empty() {
            let _ = writeln!(
                said,
                "kept, though never deployed there, because a migration that stays needs them:"
            );
        }
        for (node, why) in &planned.kept {
            let why = match why {
                Need::By { by, via } if by == via => {
                    format!("{} ({}) needs it", printable(graph.rev(*by)), printable(&entry(*by).file))
                }
                Need::By { by, via } => format!(
                    "{} ({}) needs it through {}",
                    printable(graph.rev(*by)),
                    printable(&entry(*by).file),
                    printable(graph.rev(*via))
                ),
                Need::StartAfter(start) if start == node => "`start_after` in Cargo.toml names it".to_owned(),
                Need::StartAfter(start) => format!(
                    "`start_after` in Cargo.toml names {}, which needs it",
                    printable(graph.rev(*start))
                ),
            };
            let _ = writeln!(said, "{}  (kept: {why})", line(*node));
        }
    }
    out!("{said}")?;
    if planned.pruned.is_empty() {
        return Ok(Exit::Done);
    }

    let sealed_pruned: Vec<NodeId> = planned.pruned.iter().copied().filter(|&n| is_sealed(n)).collect();
    let pruned: Vec<&str> = planned.pruned.iter().map(|&n| graph.rev(n)).collect();
    let by_rev: BTreeMap<&str, &ScannedFile> =
        folder.files.iter().filter_map(|f| Some((f.source.modules.first()?.rev.as_deref()?, f))).collect();
    // Worked out before anything is removed, so that a refusal removes nothing.
    let removal = removal(project, &folder, &by_rev, &pruned)?;
    let shown = |path: &Path| shown_path(project, path);
    if !yes {
        for included in &removal.included {
            outln!("  + {}, which only they include", printable(&shown(&included.shown)))?;
        }
        for (path, why) in &removal.kept {
            outln!("  (kept: {}, which only they include: {why})", printable(&shown(path)))?;
        }
        if let Some(imported) = &removal.imported {
            outln!("  + {} of {}", plural(imported.gone, "entry", "entries"), printable(&imported.shown))?;
        }
        if !sealed_pruned.is_empty() {
            outln!(
                "--yes would refuse: {} sealed in {seal_display} (deployed somewhere; the seal forbids deleting it)",
                plural(sealed_pruned.len(), "migration is", "migrations are")
            )?;
        }
        outln!("nothing was removed: run again with --yes to remove them")?;
        return Ok(Exit::Done);
    }
    if !sealed_pruned.is_empty() {
        let names: Vec<String> = sealed_pruned
            .iter()
            .map(|&n| format!("`{}` ({})", printable(graph.rev(n)), printable(&entry(n).file)))
            .collect();
        bail!(
            "cannot prune {}: {} sealed in `{seal_display}`, so {} deployed to some database, and the seal forbids \
             deleting {}\n= help: check that --not-in names the database the migrations were deployed to; a sealed \
             migration that must go is reverted by a new migration instead; nothing was removed",
            names.join(", "),
            if names.len() == 1 { "it is" } else { "they are" },
            if names.len() == 1 { "it was" } else { "they were" },
            if names.len() == 1 { "it" } else { "them" },
        );
    }

    let removed = execute(&removal, &shown, &mut |path| std::fs::remove_file(path))?;
    // Listed in the order removed.
    outln!(
        "removed {}:",
        plural(removed.migrations.len(), "never-deployed migration", "never-deployed migrations")
    )?;
    for rev in &removed.migrations {
        if let Some(node) = graph.node(rev) {
            outln!("{}", line(node))?;
        }
    }
    for path in &removed.included {
        outln!("removed {}, which only they included", printable(&shown(path)))?;
    }
    for path in &removed.folders {
        outln!("removed the folder {}, left empty", printable(&shown(path)))?;
    }
    for (path, why) in &removal.kept {
        outln!("kept {}, which only they included: {why}", printable(&shown(path)))?;
    }
    if let Some(imported) = removal.imported.as_ref().filter(|_| removed.imported > 0) {
        outln!("removed {} of {}", plural(removed.imported, "entry", "entries"), printable(&imported.shown))?;
    }
    let left = History::of(&project.scan()?);
    let mut heads = left.heads();
    heads.sort();
    let heads_text = heads.iter().map(|h| printable(h)).collect::<Vec<_>>().join(", ");
    // The rows an ancestor of another row stands for add nothing: the database is at the rest.
    let mut effective: Vec<String> =
        graph.heads_after(&nodes, &[], true).iter().map(|&n| graph.rev(n).to_owned()).collect();
    effective.sort();
    if heads == effective {
        outln!("the folder's head is now the database's: {heads_text}")?;
    } else {
        outln!(
            "the folder's heads are now {heads_text}; the database of --not-in is at {} (the rest is kept, as said above, or is not on its lines)",
            effective.iter().map(|r| printable(r)).collect::<Vec<_>>().join(", ")
        )?;
    }
    if project.schema_file().is_file() {
        outln!(
            "note: `{}` shows the old head: run `cargo migrate schema` and commit it",
            printable(&shown_path(project, &project.schema_file()))
        )?;
    }
    if let Some(said) = crate::changelog::refresh(project)? {
        outln!("{said}")?;
    }
    Ok(Exit::Done)
}

/// `path` relative to the crate, as messages show the folder's files (a real path, symbolic
/// links resolved, relative to the crate's real path).
fn shown_path(project: &Project, path: &Path) -> String {
    let dir = normalize(&project.dir);
    let path = normalize(path);
    if let Ok(rest) = path.strip_prefix(&dir) {
        return rest.display().to_string();
    }
    match std::fs::canonicalize(&project.dir) {
        Ok(real) => path.strip_prefix(&real).unwrap_or(&path).display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(revisions: &[Revision]) -> Graph {
        let (graph, problems) = Graph::build(revisions);
        assert!(problems.is_empty(), "{problems:?}");
        graph
    }

    fn revs(graph: &Graph, nodes: &[NodeId]) -> Vec<String> {
        graph.revs_of(nodes).into_iter().map(str::to_owned).collect()
    }

    fn planned(
        graph: &Graph,
        rows: &[&str],
        start_after: Option<&str>,
    ) -> (Vec<String>, Vec<(String, Need)>) {
        let rows: Vec<NodeId> = rows.iter().map(|r| graph.node(r).expect("a row")).collect();
        let planned = plan(graph, &rows, start_after.and_then(|s| graph.node(s)));
        let kept = planned.kept.iter().map(|(n, why)| (graph.rev(*n).to_owned(), why.clone())).collect();
        (revs(graph, &planned.pruned), kept)
    }

    #[test]
    fn what_grows_from_the_head_goes_newest_first() {
        let g = graph(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("c", &["b"], "3"),
            Revision::new("d", &["c"], "4"),
        ]);
        assert_eq!(planned(&g, &["b"], None), (vec!["d".to_owned(), "c".to_owned()], vec![]));
        assert_eq!(planned(&g, &["d"], None), (vec![], vec![]));
    }

    #[test]
    fn a_branch_forked_below_the_head_goes_and_the_applied_line_stays() {
        let g = graph(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("c", &["b"], "3"),
            Revision::new("x", &["a"], "4"),
            Revision::new("y", &["x"], "5"),
            Revision::new("m", &["c", "y"], "6"),
        ]);
        assert_eq!(planned(&g, &["c"], None).0, ["m", "y", "x"]);
    }

    #[test]
    fn a_migration_another_tree_needs_stays_with_its_reason() {
        let g = graph(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("c", &["b"], "3"),
            Revision::new("d", &["c"], "4"),
            // Another tree, never applied, needing `c`.
            Revision::new("t", &[], "5").labelled(&["audit"]),
            Revision::new("u", &["t"], "6").depending_on(&["c"]),
        ]);
        let (pruned, kept) = planned(&g, &["a"], None);
        assert_eq!(pruned, ["d"]);
        let u = g.node("u").expect("u");
        let c = g.node("c").expect("c");
        assert_eq!(
            kept,
            [("c".to_owned(), Need::By { by: u, via: u }), ("b".to_owned(), Need::By { by: u, via: c }),]
        );
        // `start_after` naming a candidate keeps it and its ancestors.
        let (pruned, kept) = planned(&g, &["a", "u"], Some("d"));
        assert!(pruned.is_empty(), "{pruned:?}");
        assert_eq!(kept.first().map(|(r, _)| r.as_str()), Some("d"));
    }

    #[test]
    fn a_row_of_a_dependant_stands_for_its_dependencies() {
        let g = graph(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("t", &[], "3"),
            Revision::new("u", &["t"], "4").depending_on(&["b"]),
            Revision::new("v", &["u"], "5"),
        ]);
        // `u`'s row implies `b` applied: nothing of the first tree goes.
        assert_eq!(planned(&g, &["u"], None), (vec!["v".to_owned()], vec![]));
    }

    #[test]
    fn imported_toml_loses_exactly_the_removed_entries() {
        let text = "# Written by `cargo migrate import`.\ntool = \"diesel\"\n\n[versions]\n\"1\" = \"aaa\"\n\"2\" = \"bbb\"\n\"3 = \\\"bbb\\\"\" = \"ccc\"\n";
        let removed: BTreeSet<&str> = ["ccc"].into_iter().collect();
        let new = imported_without(text, &removed, "m").expect("edits").expect("changed");
        assert_eq!(
            new,
            "# Written by `cargo migrate import`.\ntool = \"diesel\"\n\n[versions]\n\"1\" = \"aaa\"\n\"2\" = \"bbb\"\n"
        );
        let none: BTreeSet<&str> = ["zzz"].into_iter().collect();
        assert_eq!(imported_without(text, &none, "m").expect("reads"), None);
        // Laid out otherwise: refused, not guessed.
        let inline = "tool = \"diesel\"\nversions = { \"1\" = \"aaa\", \"3\" = \"ccc\" }\n";
        let refused = imported_without(inline, &removed, "m").expect_err("refused");
        assert!(refused.to_string().contains("not laid out as"), "{refused}");
        let broken = imported_without("tool = ", &removed, "m").expect_err("refused");
        assert!(broken.to_string().contains("not TOML"), "{broken}");
    }

    /// A folder of empty migration files for `revisions` (each `(rev, parents, includes)`),
    /// the files they include, and an `imported.toml` with an entry for each; with the
    /// `Removal` of every revision but the first, in the order `plan` gives.
    fn removal_on_disk(dir: &Path, revisions: &[(&str, &[&str], &[&str])]) -> (Graph, Removal) {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("creates");
        let root = std::fs::canonicalize(dir).expect("a real path");
        let g = graph(
            &revisions.iter().map(|(rev, parents, _)| Revision::new(*rev, parents, *rev)).collect::<Vec<_>>(),
        );
        let first = g.node(revisions[0].0).expect("a row");
        let pruned: Vec<&str> = plan(&g, &[first], None).pruned.iter().map(|&n| g.rev(n)).collect();
        let mut imported = "tool = \"diesel\"\n\n[versions]\n".to_owned();
        for (number, (rev, _, includes)) in revisions.iter().enumerate() {
            std::fs::write(root.join(format!("{rev}.rs")), "").expect("writes");
            let _ = writeln!(imported, "\"{number}\" = \"{rev}\"");
            for include in *includes {
                std::fs::create_dir_all(root.join(include).parent().expect("a folder")).expect("creates");
                std::fs::write(root.join(include), "SELECT 1;\n").expect("writes");
            }
        }
        std::fs::write(root.join(IMPORTED), &imported).expect("writes");
        let mut included: BTreeMap<PathBuf, Included> = BTreeMap::new();
        for (index, rev) in pruned.iter().enumerate() {
            let (_, _, includes) = revisions.iter().find(|(r, _, _)| r == rev).expect("listed");
            for include in *includes {
                let real = root.join(include);
                included.entry(real.clone()).and_modify(|i| i.after = index).or_insert(Included {
                    shown: real.clone(),
                    real,
                    after: index,
                });
            }
        }
        let gone: BTreeSet<&str> = pruned.iter().copied().collect();
        let removal = Removal {
            root: root.clone(),
            files: pruned.iter().map(|rev| ((*rev).to_owned(), root.join(format!("{rev}.rs")))).collect(),
            included: included.into_values().collect(),
            kept: Vec::new(),
            imported: imported_without(&imported, &gone, "imported.toml").expect("reads").map(|_| Imported {
                path: root.join(IMPORTED),
                shown: "imported.toml".to_owned(),
                text: imported.clone(),
                gone: gone.len(),
            }),
        };
        (g, removal)
    }

    #[test]
    fn a_removal_failing_part_way_leaves_a_graph_that_a_second_prune_finishes() {
        // Revision ids in another order than the graph's: removing by id would take a parent
        // before its child.
        let revisions: &[(&str, &[&str], &[&str])] = &[
            ("0a", &[], &[]),
            ("9b", &["0a"], &[]),
            ("1c", &["9b"], &["s/shared.sql"]),
            ("5x", &["9b"], &["s/shared.sql", "s/deep/x.sql"]),
            ("2m", &["1c", "5x"], &[]),
            ("3d", &["2m"], &["d.sql"]),
        ];
        let dir = std::env::temp_dir().join(format!("migrate-cli-prune-order-{}", std::process::id()));
        let (_, removal) = removal_on_disk(&dir, revisions);
        let order: Vec<&str> = removal.files.iter().map(|(rev, _)| rev.as_str()).collect();
        assert_eq!(order, ["3d", "2m", "5x", "1c", "9b"]);
        let total = steps(&removal).len();
        assert_eq!(total, 5 + 3);
        // Fail at each removal in turn (and at none).
        for fail_at in 0..=total {
            let (_, removal) = removal_on_disk(&dir, revisions);
            let root = removal.root.clone();
            let mut calls = 0;
            let result = execute(&removal, &|p: &Path| p.display().to_string(), &mut |path: &Path| {
                calls += 1;
                if calls == fail_at + 1 {
                    return Err(std::io::Error::other("refused by the test"));
                }
                std::fs::remove_file(path)
            });
            let left: Vec<&(&str, &[&str], &[&str])> =
                revisions.iter().filter(|(rev, _, _)| root.join(format!("{rev}.rs")).exists()).collect();
            // What is left is a graph, each migration with the files it includes...
            let (_, problems) = Graph::build(
                &left.iter().map(|(rev, parents, _)| Revision::new(*rev, parents, *rev)).collect::<Vec<_>>(),
            );
            assert!(problems.is_empty(), "failing at {fail_at}: {problems:?}");
            for (rev, _, includes) in &left {
                for include in *includes {
                    assert!(root.join(include).is_file(), "failing at {fail_at}: {rev} lost {include}");
                }
            }
            // ...and imported.toml has the entries of exactly what is left.
            let text = std::fs::read_to_string(root.join(IMPORTED)).expect("reads");
            let table: toml::Table = text.parse().expect("TOML");
            let mut entries: Vec<&str> =
                table["versions"].as_table().expect("a table").values().filter_map(|v| v.as_str()).collect();
            entries.sort_unstable();
            let mut expected: Vec<&str> = left.iter().map(|(rev, _, _)| *rev).collect();
            expected.sort_unstable();
            assert_eq!(entries, expected, "failing at {fail_at}");
            match result {
                Ok(removed) => {
                    assert_eq!(fail_at, total);
                    assert_eq!(removed.migrations, order);
                    assert_eq!(expected, ["0a"]);
                    assert!(!root.join("s").exists(), "the emptied folder stays");
                    assert_eq!(removed.imported, 5);
                }
                Err(e) => {
                    let said = e.to_string();
                    assert!(said.contains("refused by the test"), "{said}");
                    if fail_at == 0 {
                        assert!(said.contains("nothing was removed"), "{said}");
                    } else {
                        assert!(said.contains("removed already, newest first: 3d"), "{said}");
                        assert!(said.contains("a second prune finds the rest"), "{said}");
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn printed_names_cannot_forge_lines() {
        assert_eq!(printable("a\nremoved everything\u{1b}[2J"), "a\\nremoved everything\\u{1b}[2J");
        assert_eq!(printable("añadir tabla 'x'"), "añadir tabla 'x'");
    }
}

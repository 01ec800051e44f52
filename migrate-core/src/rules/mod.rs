//! The compile-time rules, one file per rule id, run over a whole migrations folder at once.
//!
//! [`check_folder`] is the entry point: build-support calls it once per build and the
//! command line once per `cargo migrate check`, so both report the same words. Graph rules that
//! describe the shape of the history (several heads, several bases) are held back while a
//! more basic defect (a duplicate id or branch label, an unknown parent or dependency, a label
//! clash, a cycle, an unreadable attribute) exists, because such a defect is usually their
//! cause: the user sees the cause, not a cascade. `allow_multiple_bases` makes the history a
//! forest: a second base is no defect, and heads count per tree.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Locator, RuleId};
use crate::graph::{Graph, Problem, Revision};
use crate::seal::{Seal, SealEntry, SealError};
use crate::source::{MigrationFile, ModuleSource};

#[cfg(feature = "lint")]
pub(crate) mod blocking_index;
#[cfg(feature = "lint")]
pub(crate) mod blocking_not_null;
#[cfg(feature = "lint")]
pub(crate) mod blocking_unique;
pub mod branch_label_clash;
#[cfg(feature = "lint")]
pub(crate) mod constraint_without_not_valid;
pub mod dependency_cycle;
#[cfg(feature = "lint")]
pub(crate) mod destructive_change;
pub mod duplicate_branch_label;
pub mod duplicate_revision;
pub mod empty_downgrade;
pub mod empty_upgrade;
#[cfg(feature = "lint")]
pub(crate) mod enum_value_in_transaction;
pub mod file_name_mismatch;
pub mod foreign_import;
pub mod hardcoded_secret;
pub mod inserted_before_sealed;
pub mod invalid_file_name;
pub mod invalid_revision_id;
pub mod item_outside_migration;
#[cfg(feature = "lint")]
pub(crate) mod lock_timeout_disabled;
pub mod merge_needs_two_parents;
pub mod missing_downgrade;
pub mod missing_manifest;
pub mod missing_why;
pub mod multiple_bases;
pub mod multiple_heads;
pub mod revision_cycle;
#[cfg(feature = "lint")]
pub(crate) mod rewriting_add_column;
#[cfg(feature = "lint")]
pub(crate) mod rewriting_type_change;
pub mod sealed_migration_changed;
pub mod sealed_migration_deleted;
pub mod stray_file;
#[cfg(feature = "lint")]
pub(crate) mod transaction_not_allowed;
#[cfg(feature = "lint")]
pub(crate) mod unchecked_sql;
pub mod unknown_argument;
pub mod unknown_depends_on;
pub mod unknown_down_revision;
pub mod unreadable_seal;
#[cfg(feature = "lint")]
pub mod unused_allow;
pub mod unwritten_template;
pub mod vague_slug;

/// What checking a folder finds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Every violation, sorted by file, then by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files holding a migration, as positions in the folder, in the chain's linear
    /// order: parents first, then by file name (date and time) where the graph leaves a
    /// choice. Migrations that could not be read come last, in file-name order.
    pub order: Vec<usize>,
    /// Settings that do not fit the folder, such as a `start_after` naming no migration; the
    /// message says what to do.
    pub setting_errors: Vec<String>,
}

/// The rules that `start_after` lifts from a history adopted from another tool: its names and
/// hygiene predate them. The graph rules and the rules on file names, arguments and imports
/// always apply.
pub const STYLE_RULES: [RuleId; 5] = [
    RuleId::VagueSlug,
    RuleId::MissingWhy,
    RuleId::EmptyUpgrade,
    RuleId::EmptyDowngrade,
    RuleId::HardcodedSecret,
];

/// The seal beside a folder, as the rules read it (see [`crate::seal`]).
pub struct Sealing<'a> {
    /// The seal file's key: its absolute path in builds.
    pub path: &'a str,
    /// The seal file as shown to users (`migrations/seal.lock`).
    pub display: &'a str,
    /// The seal, or why it cannot be read.
    pub seal: &'a Result<Seal, SealError>,
    /// The sum of the meaning of the migration in the file at a position of the files checked
    /// ([`crate::seal::Meaning::sum`]), `None` when it cannot be read.
    pub sum: &'a dyn Fn(usize) -> Option<String>,
}

/// Runs every rule over the files of one migrations folder, building the revision graph
/// once for the rules and the linear order.
pub fn check_folder<F: Borrow<MigrationFile>>(files: &[F], config: &Config) -> Checked {
    check_sealed_folder(files, config, None)
}

/// [`check_folder`], with the folder's seal when it has one: the seal's rules run too, and a
/// duplicate revision is blamed on the copy the seal does not hold.
pub fn check_sealed_folder<F: Borrow<MigrationFile>>(
    files: &[F],
    config: &Config,
    sealing: Option<&Sealing<'_>>,
) -> Checked {
    let analysis = Analysis::new(files, config);
    let mut report = Report::default();
    for file in files {
        let file = file.borrow();
        if !file.parsed {
            continue;
        }
        item_outside_migration::check(file, &mut report);
        let Some(module) = file.modules.first() else {
            continue;
        };
        invalid_file_name::check(file, module, &mut report);
        file_name_mismatch::check(file, module, &mut report);
        if module.syntax_error.is_some() {
            // The macro reports the syntax error itself; nothing below can be trusted.
            continue;
        }
        unknown_argument::check(file, module, &mut report);
        invalid_revision_id::check(file, module, config, &mut report);
        merge_needs_two_parents::check(file, module, &mut report);
        vague_slug::check(file, module, config, &mut report);
        missing_why::check(file, module, &mut report);
        missing_downgrade::check(file, module, &mut report);
        empty_upgrade::check(file, module, &mut report);
        empty_downgrade::check(file, module, &mut report);
        unwritten_template::check(file, module, &mut report);
        foreign_import::check(file, module, &mut report);
        hardcoded_secret::check(file, module, &mut report);
    }
    duplicate_revision::check(&analysis, sealing, &mut report);
    unknown_down_revision::check(&analysis, &mut report);
    revision_cycle::check(&analysis, &mut report);
    unknown_depends_on::check(&analysis, &mut report);
    dependency_cycle::check(&analysis, &mut report);
    duplicate_branch_label::check(&analysis, &mut report);
    branch_label_clash::check(&analysis, &mut report);
    if let Some(sealing) = sealing {
        match sealing.seal {
            Err(error) => unreadable_seal::check(sealing, error, &mut report),
            Ok(seal) => {
                let all: Vec<&MigrationFile> = files.iter().map(Borrow::borrow).collect();
                sealed_migration_changed::check(&analysis, sealing, seal, &mut report);
                sealed_migration_deleted::check(&analysis, &all, sealing, seal, &mut report);
                inserted_before_sealed::check(&analysis, sealing, seal, &mut report);
            }
        }
    }
    #[cfg(feature = "lint")]
    {
        let sealed: HashSet<&str> = match sealing.map(|s| s.seal) {
            Some(Ok(seal)) => seal.entries.iter().map(|e| e.rev.as_str()).collect(),
            _ => HashSet::new(),
        };
        lint_chain(&analysis, config, &sealed, &mut report);
    }
    if analysis.shape_is_meaningful(&report) {
        // A second base is also an extra head: the base is the cause, so it speaks alone.
        multiple_bases::check(&analysis, &mut report);
        if !report.has(&[RuleId::MultipleBases]) {
            multiple_heads::check(&analysis, &mut report);
        }
    }
    let mut diagnostics = report.diagnostics;
    let mut setting_errors = Vec::new();
    if let Some(start) = &config.start_after {
        match analysis.adopted_files() {
            Some(exempt_files) => {
                diagnostics
                    .retain(|d| !(STYLE_RULES.contains(&d.rule) && exempt_files.contains(&d.file.as_str())));
            }
            None => setting_errors.push(format!(
                "`start_after = \"{start}\"` names no migration of the folder\n= help: set it to the last \
                 revision of the adopted history (`cargo migrate import` writes it), or remove it"
            )),
        }
    }
    diagnostics.sort();
    diagnostics.dedup();
    Checked { diagnostics, order: analysis.linear_order(files), setting_errors }
}

/// The diagnostics of [`check_folder`].
pub fn check<F: Borrow<MigrationFile>>(files: &[F], config: &Config) -> Vec<Diagnostic> {
    check_folder(files, config).diagnostics
}

/// Collects diagnostics.
#[derive(Default)]
pub(crate) struct Report {
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub(crate) fn push(
        &mut self,
        file: &MigrationFile,
        module: Option<&ModuleSource>,
        locator: Locator,
        rule: RuleId,
        message: String,
        help: String,
    ) {
        self.diagnostics.push(Diagnostic {
            file: file.path.clone(),
            module: module.map(|m| m.name.clone()),
            locator,
            rule,
            message,
            help,
        });
    }

    fn has(&self, rules: &[RuleId]) -> bool {
        self.diagnostics.iter().any(|d| rules.contains(&d.rule))
    }
}

/// A name written by the user (a branch label, a `depends_on` name, a revision id) in backticks
/// for a message: on one line ([`crate::text::on_one_line`]), and fenced with two backticks
/// when it holds one (``` ``a`b`` ```), so that no name can end the quote or the line.
pub(crate) fn code(name: &str) -> String {
    let name = crate::text::on_one_line(name);
    if name.contains('`') { format!("`` {name} ``") } else { format!("`{name}`") }
}

/// A migration module that takes part in the graph: its attribute gave a revision id.
pub(crate) struct Entry<'a> {
    /// The file's position in the folder given to [`check`].
    pub(crate) index: usize,
    pub(crate) file: &'a MigrationFile,
    pub(crate) module: &'a ModuleSource,
    pub(crate) rev: &'a str,
}

/// The revision graph of a folder, built once for all graph rules.
pub(crate) struct Analysis<'a> {
    pub(crate) entries: Vec<Entry<'a>>,
    pub(crate) graph: Graph,
    pub(crate) problems: Vec<Problem>,
    config: &'a Config,
    /// Whether some file or attribute could not be read.
    pub(crate) unreadable: bool,
    /// The entries of each revision id (several for a duplicate), by position in `entries`.
    by_rev: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Analysis<'a> {
    fn new<F: Borrow<MigrationFile>>(files: &'a [F], config: &'a Config) -> Self {
        let mut sorted: Vec<(usize, &MigrationFile)> = files.iter().map(Borrow::borrow).enumerate().collect();
        sorted.sort_by(|(_, a), (_, b)| (&a.file_name, &a.path).cmp(&(&b.file_name, &b.path)));
        let mut unreadable = false;
        let mut entries = Vec::new();
        for (index, file) in sorted {
            unreadable |= !file.parsed;
            let Some(module) = file.modules.first() else {
                continue;
            };
            match (&module.rev, &module.syntax_error) {
                (Some(rev), None) => entries.push(Entry { index, file, module, rev }),
                _ => unreadable = true,
            }
        }
        let revisions: Vec<Revision> = entries
            .iter()
            .map(|e| Revision {
                rev: e.rev.to_owned(),
                parents: e.module.down_revision.parents().into_iter().map(str::to_owned).collect(),
                depends_on: e.module.depends_on.clone(),
                labels: e.module.branch_labels.clone(),
                key: e.file.file_name.clone(),
            })
            .collect();
        let (graph, problems) = Graph::build(&revisions);
        let mut by_rev: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (position, entry) in entries.iter().enumerate() {
            by_rev.entry(entry.rev).or_default().push(position);
        }
        Analysis { entries, graph, problems, config, unreadable, by_rev }
    }

    /// See [`Checked::order`].
    /// The files of the history adopted from another tool (`start_after` and its ancestors),
    /// exempt from the style and lock rules; `None` when `start_after` names no migration.
    fn adopted_files(&self) -> Option<HashSet<&'a str>> {
        let Some(start) = &self.config.start_after else {
            return Some(HashSet::new());
        };
        let node = self.graph.node(start)?;
        let exempt = self.graph.ancestors(&[node]);
        Some((0..self.graph.len()).filter(|&n| exempt[n]).map(|n| self.entry(n).file.path.as_str()).collect())
    }

    fn linear_order<F: Borrow<MigrationFile>>(&self, files: &[F]) -> Vec<usize> {
        let file = |i: usize| -> &MigrationFile { files[i].borrow() };
        let mut order: Vec<usize> = self.graph.linear().iter().map(|&n| self.entry(n).index).collect();
        let mut placed = vec![false; files.len()];
        for &i in &order {
            placed[i] = true;
        }
        let mut rest: Vec<usize> =
            (0..files.len()).filter(|&i| !placed[i] && !file(i).modules.is_empty()).collect();
        rest.sort_by(|&a, &b| file(a).file_name.cmp(&file(b).file_name));
        order.extend(rest);
        order
    }

    /// The migration a seal entry stands for: the one with its revision; among copies, the one
    /// with its file name, else the one with its sum.
    pub(crate) fn sealed_entry(&self, sealing: &Sealing<'_>, sealed: &SealEntry) -> Option<&Entry<'a>> {
        let copies: Vec<&Entry<'a>> =
            self.by_rev.get(sealed.rev.as_str()).into_iter().flatten().map(|&i| &self.entries[i]).collect();
        if let [one] = copies.as_slice() {
            return Some(one);
        }
        copies
            .iter()
            .find(|e| e.file.file_name == sealed.file_name)
            .or_else(|| {
                copies.iter().find(|e| (sealing.sum)(e.index).as_deref() == Some(sealed.sum.as_str()))
            })
            .or(copies.first())
            .copied()
    }

    /// Whether a migration declares `rev`.
    pub(crate) fn has_rev(&self, rev: &str) -> bool {
        self.by_rev.contains_key(rev)
    }

    /// Whether the folder accepts several heads.
    pub(crate) fn config_allows_heads(&self) -> bool {
        self.config.allow_multiple_heads
    }

    /// Whether the folder accepts several bases (a forest of independent branches).
    pub(crate) fn config_allows_bases(&self) -> bool {
        self.config.allow_multiple_bases
    }

    /// The entry behind a graph node.
    pub(crate) fn entry(&self, node: usize) -> &Entry<'a> {
        &self.entries[self.graph.input_of(node)]
    }

    /// Whether heads and bases say something about the history itself, rather than echo a
    /// defect already reported.
    fn shape_is_meaningful(&self, report: &Report) -> bool {
        // A sealed migration moved: the move is the cause of any new head or base.
        let moved = report.diagnostics.iter().any(|d| {
            d.rule == RuleId::InsertedBeforeSealed
                || (d.rule == RuleId::SealedMigrationChanged && d.locator == Locator::DownRevisionValue)
        });
        // Every graph problem counts: duplicate ids and labels, unknown parents and
        // dependencies, label clashes, and cycles through down revisions or dependencies.
        !self.unreadable
            && self.problems.is_empty()
            && !moved
            && !report.has(&[RuleId::UnknownArgument, RuleId::MergeNeedsTwoParents])
    }

    /// The heads of the history, leaving out `except` and what grows from it.
    pub(crate) fn heads_without(&self, except: Option<usize>) -> Vec<&str> {
        let hidden = match except {
            Some(node) => self.graph.descendants(&[node]),
            None => vec![false; self.graph.len()],
        };
        // One node per revision id: the heads are distinct.
        self.graph
            .linear()
            .iter()
            .filter(|&&n| !hidden[n] && self.graph.children(n).iter().all(|&c| hidden[c]))
            .map(|&n| self.graph.rev(n))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Builders for rule tests.

    use crate::source::{DownRevision, Function, MigrationFile, ModuleSource};

    /// A well-formed migration file for `rev` with the given parents.
    pub(crate) fn file(stamp: &str, rev: &str, down: &[&str], slug: &str) -> MigrationFile {
        let down_revision = match down {
            [] => DownRevision::None,
            [one] => DownRevision::One((*one).to_owned()),
            many => DownRevision::Many(many.iter().map(|p| (*p).to_owned()).collect()),
        };
        let file_name = format!("{stamp}_{rev}_{slug}.rs");
        MigrationFile {
            path: format!("/crate/migrations/{file_name}"),
            display: format!("migrations/{file_name}"),
            file_name,
            modules: vec![ModuleSource {
                name: slug.to_owned(),
                rev: Some(rev.to_owned()),
                down_revision,
                arguments: vec!["rev".into(), "down_revision".into()],
                doc: vec![" Why this change is needed.".into()],
                functions: vec![
                    Function { name: "upgrade".into(), empty: false },
                    Function { name: "downgrade".into(), empty: false },
                ],
                ..ModuleSource::default()
            }],
            stray_items: Vec::new(),
            parsed: true,
        }
    }

    /// `file` with its migration declaring `labels` and depending on `depends_on`.
    pub(crate) fn with(mut file: MigrationFile, labels: &[&str], depends_on: &[&str]) -> MigrationFile {
        let module = &mut file.modules[0];
        module.branch_labels = labels.iter().map(|l| (*l).to_owned()).collect();
        module.depends_on = depends_on.iter().map(|d| (*d).to_owned()).collect();
        file
    }

    /// `add_people_table`, then `add_audit_log_table` (labelled `audit`) and `add_interactions_table`
    /// both after it, the last one depending on `depends_on`.
    pub(crate) fn audit_history(depends_on: &[&str]) -> Vec<MigrationFile> {
        vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table"),
                &["audit"],
                &[],
            ),
            with(
                file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_interactions_table"),
                &[],
                depends_on,
            ),
        ]
    }

    /// The rule ids and locators `check` reports, with the file's revision, in order.
    pub(crate) fn found(files: &[MigrationFile]) -> Vec<(String, String, String)> {
        super::check(files, &crate::config::Config::default())
            .into_iter()
            .map(|d| {
                let file = files.iter().find(|f| f.path == d.file).map_or(String::new(), |f| {
                    f.modules.first().and_then(|m| m.rev.clone()).unwrap_or_default()
                });
                (d.rule.to_string(), file, d.locator.to_string())
            })
            .collect()
    }

    /// A seal of `files`, in their order, every sum `0…0`, read back from its text.
    pub(crate) fn sealed(files: &[MigrationFile]) -> Result<crate::seal::Seal, crate::seal::SealError> {
        let entries = files
            .iter()
            .map(|f| crate::seal::SealEntry {
                rev: f.modules[0].rev.clone().unwrap_or_default(),
                parents: f.modules[0].down_revision.parents().into_iter().map(str::to_owned).collect(),
                sum: "0".repeat(64),
                file_name: f.file_name.clone(),
                line: 0,
            })
            .collect();
        crate::seal::Seal::parse(&crate::seal::Seal { entries }.render("migrations"))
    }

    /// Rule, revision, locator and message of what `check_sealed_folder` reports for `files`
    /// under `seal`, the files at the positions `changed` having another sum than `0…0`.
    pub(crate) fn sealed_found_in(
        files: &[MigrationFile],
        seal: &Result<crate::seal::Seal, crate::seal::SealError>,
        changed: &[usize],
    ) -> Vec<(String, String, String, String)> {
        let sum = |i: usize| Some(if changed.contains(&i) { "1" } else { "0" }.repeat(64));
        let sealing = super::Sealing {
            path: "/crate/migrations/seal.lock",
            display: "migrations/seal.lock",
            seal,
            sum: &sum,
        };
        super::check_sealed_folder(files, &crate::config::Config::default(), Some(&sealing))
            .diagnostics
            .into_iter()
            .map(|d| {
                let rev = files
                    .iter()
                    .find(|f| f.path == d.file)
                    .and_then(|f| f.modules.first().and_then(|m| m.rev.clone()))
                    .unwrap_or_default();
                (d.rule.to_string(), rev, d.locator.to_string(), d.message)
            })
            .collect()
    }

    /// [`sealed_found_in`] with a seal that reads.
    pub(crate) fn sealed_found(
        files: &[MigrationFile],
        seal: &Result<crate::seal::Seal, crate::seal::SealError>,
        changed: &[usize],
    ) -> Vec<(String, String, String, String)> {
        assert!(seal.is_ok(), "{seal:?}");
        sealed_found_in(files, seal, changed)
    }

    /// Shorthand for expected `found` rows.
    pub(crate) fn rows(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        expected.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
    }
}

/// Runs the lock rules over the chain in its linear order, replaying the schema each
/// migration builds, and applies each migration's `allow(…)`. Migrations of an adopted history
/// (`start_after`) and sealed ones (deployed: the locks they took are history, and an edit to
/// excuse them would break the seal) build the schema but are not judged. The SQL is parsed
/// first, on every core (parsing needs no schema); the judging that follows is in order.
#[cfg(feature = "lint")]
fn lint_chain(analysis: &Analysis<'_>, config: &Config, sealed: &HashSet<&str>, report: &mut Report) {
    use crate::lint::Schema;
    let adopted = analysis.adopted_files().unwrap_or_default();
    let entries: Vec<&Entry<'_>> = analysis.graph.linear().iter().map(|&node| analysis.entry(node)).collect();
    let readings = read_in_parallel(&entries);
    let mut schema = Schema::default();
    for (entry, reading) in entries.iter().zip(readings) {
        let (file, module) = (entry.file, entry.module);
        let findings = judge(module, reading, &mut schema, config.postgres_version());
        if adopted.contains(file.path.as_str()) || sealed.contains(entry.rev) {
            continue;
        }
        let mut used = vec![false; module.allows.len()];
        for (at, rule, (message, help)) in findings {
            let allowed = module.allows.iter().position(|a| a.rule == rule.as_str() && a.reason.is_some());
            match allowed {
                Some(k) => used[k] = true,
                None => report.push(file, Some(module), Locator::Recorded(at), rule, message, help),
            }
        }
        unused_allow::check(file, module, &used, report);
    }
}

/// What one statement of `upgrade` reads to, before any schema is known.
#[cfg(feature = "lint")]
enum Reading<'a> {
    /// SQL texts (an operation's statements, or one text of the module's SQL), each with what
    /// the parser made of it; `from_op` when the SQL is an operation's rendering; `file` the
    /// included file it comes from.
    Texts {
        texts: Vec<(&'a str, Result<Vec<crate::lint::Fact>, crate::lint::Unreadable>)>,
        from_op: bool,
        file: Option<&'a str>,
    },
    /// A call the reader could not follow, and why.
    Unreadable { call: &'a str, why: &'a str },
    /// Nothing to judge (an included file the build could not read reports itself).
    Nothing,
}

#[cfg(feature = "lint")]
fn read_module(module: &ModuleSource) -> Vec<Reading<'_>> {
    use crate::source::Recorded;
    type Parsed<'a> = Vec<(&'a str, Result<Vec<crate::lint::Fact>, crate::lint::Unreadable>)>;
    fn texts<'a>(texts: &mut dyn Iterator<Item = &'a str>) -> Parsed<'a> {
        texts.map(|t| (t, crate::lint::read(t))).collect()
    }
    module
        .recorded
        .iter()
        .map(|recorded| match recorded {
            Recorded::Operation { statements, .. } => Reading::Texts {
                texts: texts(&mut statements.iter().map(String::as_str)),
                from_op: true,
                file: None,
            },
            Recorded::Text { sql, .. } => Reading::Texts {
                texts: texts(&mut std::iter::once(sql.as_str())),
                from_op: false,
                file: None,
            },
            Recorded::Sql { literal } => match module.literals.get(*literal) {
                Some(literal) => match &literal.included {
                    Some(included) => match &included.text {
                        Some(text) => Reading::Texts {
                            texts: texts(&mut std::iter::once(text.as_str())),
                            from_op: false,
                            file: Some(included.display.as_str()),
                        },
                        None => Reading::Nothing,
                    },
                    None => Reading::Texts {
                        texts: texts(&mut std::iter::once(literal.value.as_str())),
                        from_op: false,
                        file: None,
                    },
                },
                None => Reading::Nothing,
            },
            Recorded::Unreadable { call, why } => Reading::Unreadable { call, why },
        })
        .collect()
}

/// [`read_module`] for every entry, on as many threads as the machine has cores (8 at most).
#[cfg(feature = "lint")]
fn read_in_parallel<'a>(entries: &[&Entry<'a>]) -> Vec<Vec<Reading<'a>>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 8);
    let chunk = entries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|e| read_module(e.module)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .zip(entries.chunks(chunk))
            .flat_map(|(worker, chunk)| {
                // A thread that panicked leaves its migrations to be read here, on this one.
                worker.join().unwrap_or_else(|_| chunk.iter().map(|e| read_module(e.module)).collect())
            })
            .collect()
    })
}

/// The lock rules' findings on one migration's `upgrade`, by position in
/// `ModuleSource::recorded`; `schema` is the chain's schema before it, and after it on return.
#[cfg(feature = "lint")]
fn judge(
    module: &ModuleSource,
    readings: Vec<Reading<'_>>,
    schema: &mut crate::lint::Schema,
    version: u32,
) -> Vec<(usize, RuleId, (String, String))> {
    use crate::lint::{Action, Context, Fact, Finding};
    type Check = fn(&Fact, &Context<'_>) -> Option<Finding>;
    const CHECKS: [(RuleId, Check); 9] = [
        (RuleId::BlockingIndex, blocking_index::check),
        (RuleId::ConstraintWithoutNotValid, constraint_without_not_valid::check),
        (RuleId::BlockingNotNull, blocking_not_null::check),
        (RuleId::RewritingTypeChange, rewriting_type_change::check),
        (RuleId::RewritingAddColumn, rewriting_add_column::check),
        (RuleId::BlockingUnique, blocking_unique::check),
        (RuleId::EnumValueInTransaction, enum_value_in_transaction::check),
        (RuleId::DestructiveChange, destructive_change::check),
        (RuleId::LockTimeoutDisabled, lock_timeout_disabled::check),
    ];
    let transactional = module.is_transactional();
    let mut created_here: HashSet<String> = HashSet::new();
    let mut earlier: Vec<Fact> = Vec::new();
    let mut findings = Vec::new();
    for (at, reading) in readings.into_iter().enumerate() {
        let (texts, from_op, file) = match reading {
            Reading::Texts { texts, from_op, file } => (texts, from_op, file),
            Reading::Unreadable { call, why } => {
                findings.push((at, RuleId::UncheckedSql, unchecked_sql::unreadable_call(call, why)));
                continue;
            }
            Reading::Nothing => continue,
        };
        for (text, read) in texts {
            if module.transactional == Some(true) {
                for Finding { message, help } in transaction_not_allowed::check(text) {
                    findings.push((at, RuleId::TransactionNotAllowed, (message, help)));
                }
            }
            let facts = match read {
                Ok(facts) => facts,
                Err(error) => {
                    findings.push((at, RuleId::UncheckedSql, unchecked_sql::unparsed(&error, file)));
                    continue;
                }
            };
            for fact in facts {
                if fact.action == Action::Do && !from_op {
                    findings.push((at, RuleId::UncheckedSql, unchecked_sql::do_block(&fact.short())));
                }
                if let Action::Opaque { what } = &fact.action {
                    findings.push((at, RuleId::UncheckedSql, unchecked_sql::opaque(&fact.short(), what)));
                }
                let cx = Context {
                    schema,
                    created_here: &created_here,
                    transactional,
                    version,
                    earlier: &earlier,
                };
                for (rule, check) in CHECKS {
                    if let Some(Finding { message, help }) = check(&fact, &cx) {
                        findings.push((at, rule, (message, help)));
                    }
                }
                match &fact.action {
                    Action::CreateTable { table, if_not_exists: false, temporary: false, .. } => {
                        created_here.insert(table.clone());
                    }
                    // A session's own table of that name: the name may now mean either.
                    Action::CreateTable { table, temporary: true, .. } => {
                        created_here.remove(table);
                    }
                    Action::RenameTable { from, to } if created_here.remove(from) => {
                        created_here.insert(to.clone());
                    }
                    _ => {}
                }
                schema.apply(&fact.action);
                earlier.push(fact);
            }
        }
    }
    findings
}

/// Runs the lock rules on migrations given as SQL, for the rules' unit tests.
#[cfg(all(test, feature = "lint"))]
pub(crate) mod lint_tests {
    use crate::source::{Allow, DownRevision, Literal, MigrationFile, ModuleSource, Recorded};

    /// The findings (rule, message) of lint rules on a chain of migrations, one SQL text each,
    /// in transactions, for PostgreSQL 15.
    pub(crate) fn findings(migrations: &[&str]) -> Vec<(String, String)> {
        run(migrations, true, 15, &[])
    }

    /// [`findings`] with the migrations' transaction mode and the target version.
    pub(crate) fn findings_with(
        migrations: &[&str],
        transactional: bool,
        version: u32,
    ) -> Vec<(String, String)> {
        run(migrations, transactional, version, &[])
    }

    /// [`findings`] with an `allow(…)` on the last migration.
    pub(crate) fn findings_allowing(
        migrations: &[&str],
        allows: &[(&str, Option<&str>)],
    ) -> Vec<(String, String)> {
        run(migrations, true, 15, allows)
    }

    /// The findings on one migration recording `recorded`.
    pub(crate) fn findings_recorded(recorded: Vec<Recorded>) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let module = ModuleSource { recorded, ..ModuleSource::default() };
        let readings = super::read_module(&module);
        for (_, rule, (message, _)) in
            super::judge(&module, readings, &mut crate::lint::Schema::default(), 15)
        {
            found.push((rule.as_str().to_owned(), message));
        }
        found
    }

    fn run(
        migrations: &[&str],
        transactional: bool,
        version: u32,
        allows: &[(&str, Option<&str>)],
    ) -> Vec<(String, String)> {
        let files: Vec<MigrationFile> = migrations
            .iter()
            .enumerate()
            .map(|(n, sql)| {
                let rev = format!("{n:012x}");
                let module = ModuleSource {
                    name: format!("migration_{n}"),
                    rev: Some(rev.clone()),
                    down_revision: if n == 0 {
                        DownRevision::None
                    } else {
                        DownRevision::One(format!("{:012x}", n - 1))
                    },
                    transactional: Some(transactional),
                    literals: vec![Literal { value: (*sql).to_owned(), ..Literal::default() }],
                    recorded: vec![Recorded::Sql { literal: 0 }],
                    allows: if n + 1 == migrations.len() {
                        allows
                            .iter()
                            .map(|(rule, reason)| Allow {
                                rule: (*rule).to_owned(),
                                reason: reason.map(str::to_owned),
                            })
                            .collect()
                    } else {
                        Vec::new()
                    },
                    ..ModuleSource::default()
                };
                MigrationFile {
                    path: format!("/m/{n}.rs"),
                    display: format!("migrations/{n}.rs"),
                    file_name: format!("2024010{n}_0900_{rev}_migration_{n}.rs"),
                    modules: vec![module],
                    parsed: true,
                    ..MigrationFile::default()
                }
            })
            .collect();
        let config = crate::Config { postgres_version: Some(version), ..crate::Config::default() };
        let mut checked = super::check_folder(&files, &config).diagnostics;
        checked.sort_by_key(|d| (d.file.clone(), d.locator.clone()));
        checked
            .into_iter()
            .filter(|d| {
                super::unused_allow::OVERRIDABLE.contains(&d.rule) || d.rule == crate::RuleId::UnusedAllow
            })
            .map(|d| (d.rule.as_str().to_owned(), d.message))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{file, found};

    #[test]
    fn a_sound_history_has_no_diagnostic() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_email_campaigns_table"),
            file(
                "20241024_0900",
                "d4e5f6a1b2c3",
                &["b2c3d4e5f6a1", "c3d4e5f6a1b2"],
                "merge_campaigns_and_statuses",
            ),
        ];
        assert_eq!(found(&files), []);
    }

    #[test]
    fn linear_order_follows_the_graph_then_the_date() {
        // Listed out of order; the second branch was written first.
        let files = [
            file(
                "20241024_0900",
                "d4e5f6a1b2c3",
                &["b2c3d4e5f6a1", "c3d4e5f6a1b2"],
                "merge_campaigns_and_statuses",
            ),
            file("20241023_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241022_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_email_campaigns_table"),
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
        ];
        assert_eq!(super::check_folder(&files, &crate::Config::default()).order, [3, 2, 1, 0]);
    }

    #[test]
    fn a_root_cause_holds_back_the_shape_rules() {
        // The typo in the down revision also leaves two bases and two heads; only the typo
        // is reported.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f7"], "add_status_to_interactions"),
        ];
        let rules: Vec<String> = found(&files).into_iter().map(|(rule, _, _)| rule).collect();
        assert_eq!(rules, ["unknown_down_revision"]);
    }

    /// Rule and revision of every finding under `start_after`.
    fn found_after(
        files: &[crate::source::MigrationFile],
        start_after: &str,
    ) -> (Vec<(String, String)>, Vec<String>) {
        let config = crate::Config { start_after: Some(start_after.to_owned()), ..crate::Config::default() };
        let checked = super::check_folder(files, &config);
        let found = checked
            .diagnostics
            .iter()
            .map(|d| {
                let rev = files.iter().find(|f| f.path == d.file).and_then(|f| f.modules[0].rev.clone());
                (d.rule.to_string(), rev.unwrap_or_default())
            })
            .collect();
        (found, checked.setting_errors)
    }

    #[test]
    fn start_after_lifts_style_rules_from_the_adopted_history_only() {
        let files = [
            file("20170101_0000", "a1b2c3d4e5f6", &[], "init"),
            file("20170102_0000", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "update_db"),
            file("20241021_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "fix_stuff"),
        ];
        let (found, errors) = found_after(&files, "b2c3d4e5f6a1");
        assert_eq!(found, [("vague_slug".to_owned(), "c3d4e5f6a1b2".to_owned())]);
        assert!(errors.is_empty());
        // Without the setting, all three are reported.
        assert_eq!(super::check(&files, &crate::Config::default()).len(), 3);
    }

    #[test]
    fn start_after_never_lifts_graph_rules() {
        let files = [
            file("20170101_0000", "a1b2c3d4e5f6", &[], "init"),
            file("20170102_0000", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_people_table"),
            file("20170103_0000", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_users_table"),
        ];
        let (found, _) = found_after(&files, "b2c3d4e5f6a1");
        let rules: Vec<&str> = found.iter().map(|(rule, _)| rule.as_str()).collect();
        assert_eq!(rules, ["duplicate_revision"]);
    }

    #[test]
    fn start_after_naming_no_migration_is_a_setting_error() {
        let files = [file("20170101_0000", "a1b2c3d4e5f6", &[], "add_people_table")];
        let (found, errors) = found_after(&files, "ffffffffffff");
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("`start_after = \"ffffffffffff\"` names no migration"),
            "{}",
            errors[0]
        );
    }
}

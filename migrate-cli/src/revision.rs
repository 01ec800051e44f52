//! `revision -m <slug>` and `merge -m <slug> [revs]`: new migration files, named and parented
//! right, refused before anything is written when the name is vague or the history has
//! several heads.
//!
//! `revision` follows the single head, or the revision `--head` names (`<label>@head`, a
//! revision, `base` for a new base); `--splice` starts a new branch from a revision that is
//! not a head, as in Alembic; `--branch-label` and `--depends-on` become `branch_labels` and
//! `depends_on`. The new migration's labels and dependencies are checked by the build's own
//! rules, run over the folder with the new file in it, so the command refuses what the build
//! would, in the build's words.

use anyhow::{Result, bail};
use migrate_core::diagnostic::RuleId;
use migrate_core::graph::{Graph, NodeId};
use migrate_core::id::generate_id;
use migrate_core::naming::{FileName, check_slug};
use migrate_core::rules::{check_folder, missing_why::WHY_PLACEHOLDER};
use migrate_core::source::{DownRevision, MigrationFile, ModuleSource};
use migrate_core::text::list;

use crate::project::{History, Project};
use crate::time::stamp_now;

/// Refused: the reason, printed as an error, with exit code 1.
pub(crate) struct Refused(pub(crate) String);

fn check_name(project: &Project, slug: &str) -> Result<(), Refused> {
    check_slug(slug, &project.settings.config.words).map_err(|problem| {
        Refused(format!(
            "slug `{slug}` {problem}\n= help: name the business change, such as `add_lead_scores_table` or \
             `add_status_to_interactions`"
        ))
    })
}

/// The value of `down_revision` for these parents: `None`, `"a"`, or `["a", "b"]`.
pub(crate) fn down_revision<S: AsRef<str>>(parents: &[S]) -> String {
    let quoted: Vec<String> = parents.iter().map(|p| format!("\"{}\"", p.as_ref())).collect();
    match quoted.as_slice() {
        [] => "None".to_owned(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// A migration file: the why line, the attribute (with `more` arguments after
/// `down_revision`, such as `, transactional = false`), and the module with the prelude
/// import and `functions`.
pub(crate) fn migration_text(
    why: &str,
    rev: &str,
    down_revision: &str,
    more: &str,
    slug: &str,
    functions: &str,
) -> String {
    format!(
        "/// {why}\n#[migration(rev = \"{rev}\", down_revision = {down_revision}{more})]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n{functions}}}\n"
    )
}

/// Writes `folder/YYYYMMDD_HHMM_<rev>_<slug>.rs` with the why placeholder (which the build
/// refuses until it is replaced) and the two `functions`; returns its path from the crate.
fn write_template(project: &Project, next: &Next, slug: &str, functions: &str) -> Result<String> {
    write_migration(project, &next.rev, slug, &next.down_revision, WHY_PLACEHOLDER, &next.more, functions)
}

/// Writes `folder/YYYYMMDD_HHMM_<rev>_<slug>.rs` with its doc comment `why` (lines after the
/// first written with their `/// `), the attribute's `more` arguments and the two `functions`;
/// returns its path from the crate.
pub(crate) fn write_migration(
    project: &Project,
    rev: &str,
    slug: &str,
    down_revision: &str,
    why: &str,
    more: &str,
    functions: &str,
) -> Result<String> {
    let folder = project.folder();
    std::fs::create_dir_all(&folder)?;
    let path = folder.join(FileName::format(&stamp_now(), rev, slug));
    if path.exists() {
        bail!("`{}` already exists", path.display());
    }
    std::fs::write(&path, migration_text(why, rev, down_revision, more, slug, functions))?;
    Ok(path.strip_prefix(&project.dir).unwrap_or(&path).display().to_string())
}

/// The functions of a new migration: comments show the way, the bodies are the user's. Each
/// body is a `todo!` placeholder, which the build refuses (`unwritten_template`) until it is
/// replaced: the file does not build until both functions are written.
const NEW_FUNCTIONS: &str = "    pub fn upgrade(op: &mut Op) {
        // Record the change, such as: op.add_column(\"people\", \"phone\", Type::Text);
        todo!(\"record the change on `op`\")
    }

    pub fn downgrade(op: &mut Op) {
        // Undo it, such as: op.drop_column(\"people\", \"phone\");
        // or, when nothing can undo it: op.irreversible(\"why\");
        todo!(\"undo the change on `op`\")
    }
";

/// The functions of a merge: it changes nothing itself.
const MERGE_FUNCTIONS: &str = "    pub fn upgrade(_op: &mut Op) {}

    pub fn downgrade(_op: &mut Op) {}
";

/// Where `revision` puts the new migration, from its flags.
#[derive(Clone, Debug, Default)]
pub(crate) struct Placement {
    /// `--head`: the revision to follow (`<label>@head`, a revision, `base`); default the head.
    pub(crate) head: Option<String>,
    /// `--splice`: `--head` may name a revision that is not a head.
    pub(crate) splice: bool,
    /// `--branch-label`: the new migration's `branch_labels`.
    pub(crate) branch_labels: Vec<String>,
    /// `--depends-on`: revisions or labels, the new migration's `depends_on`.
    pub(crate) depends_on: Vec<String>,
}

/// A new migration: its id, its `down_revision` value, and the attribute's other arguments.
pub(crate) struct Next {
    /// The new revision id.
    pub(crate) rev: String,
    /// `None`, `"a"`.
    pub(crate) down_revision: String,
    /// `, branch_labels = [..], depends_on = [..]`, or nothing.
    pub(crate) more: String,
}

/// `revision -m <slug>`: a migration following the head, or where `placement` says.
pub(crate) fn revision(
    project: &Project,
    slug: &str,
    placement: &Placement,
) -> Result<Result<String, Refused>> {
    let next = match next_revision_at(project, slug, placement)? {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)),
    };
    let path = write_template(project, &next, slug, NEW_FUNCTIONS)?;
    Ok(Ok(path))
}

/// The id and `down_revision` of a migration `slug` following the head; refused for a vague
/// slug or several heads.
pub(crate) fn next_revision(project: &Project, slug: &str) -> Result<Result<(String, String), Refused>> {
    Ok(next_revision_at(project, slug, &Placement::default())?.map(|next| (next.rev, next.down_revision)))
}

/// `"a", "b"`: names as the elements of a list literal, each a Rust string literal (a `"` or
/// `\` in a name escaped), so that the file parses whatever the name holds.
fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    names.iter().map(|n| format!("{:?}", n.as_ref())).collect::<Vec<_>>().join(", ")
}

/// The new migration of `slug` where `placement` puts it; refused for a vague slug, several
/// heads without `--head`, a `--head` or `--depends-on` naming nothing, a non-head without
/// `--splice`, a new base without a label, or a label or dependency the build would refuse.
fn next_revision_at(project: &Project, slug: &str, placement: &Placement) -> Result<Result<Next, Refused>> {
    if let Err(refused) = check_name(project, slug) {
        return Ok(Err(refused));
    }
    let folder = if project.folder().is_dir() { Some(project.scan()?) } else { None };
    let history = folder.as_ref().map(History::of);
    let graph = history.as_ref().map(|h| &h.graph);
    let heads = history.as_ref().map(History::heads).unwrap_or_default();
    let parents: Vec<String> = match (&placement.head, graph) {
        (None, _) => match heads.as_slice() {
            [] | [_] => heads.clone(),
            several => {
                return Ok(Err(Refused(format!(
                    "the history has {} heads ({}): a new migration would not know which to follow\n\
                     = help: merge them first: `cargo migrate merge -m <slug>`, or name the one to follow: \
                     `--head <label>@head` (or `--head <rev>`)",
                    several.len(),
                    list(several)
                ))));
            }
        },
        (Some(base), _) if base == "base" => match new_base(project, graph, placement) {
            Ok(()) => Vec::new(),
            Err(refused) => return Ok(Err(refused)),
        },
        (Some(head), None) => {
            return Ok(Err(Refused(format!(
                "`--head {head}` names no revision: the migrations folder `{}` has none yet\n\
                 = help: leave --head out: the first migration is a base",
                project.settings.folder.display()
            ))));
        }
        (Some(head), Some(graph)) => match follow(graph, head, placement.splice) {
            Ok(parent) => vec![graph.rev(parent).to_owned()],
            Err(refused) => return Ok(Err(refused)),
        },
    };
    let mut depends_on = Vec::new();
    for name in &placement.depends_on {
        let Some(graph) = graph else {
            return Ok(Err(Refused(format!(
                "`--depends-on {name}` names no revision: the migrations folder `{}` has none yet\n\
                 = help: leave --depends-on out",
                project.settings.folder.display()
            ))));
        };
        match dependency(graph, name) {
            Ok(written) => depends_on.push(written),
            Err(refused) => return Ok(Err(refused)),
        }
    }
    let labels = &placement.branch_labels;
    let rev = generate_id(|id| id_taken(graph, labels, id));
    // Run on the first migration too, whose folder does not exist yet.
    if let Err(refused) =
        refused_by_rules(project, folder.as_ref(), &rev, slug, &parents, labels, &depends_on)
    {
        return Ok(Err(refused));
    }
    let mut more = String::new();
    if !labels.is_empty() {
        more.push_str(&format!(", branch_labels = [{}]", quoted(labels)));
    }
    if !depends_on.is_empty() {
        more.push_str(&format!(", depends_on = [{}]", quoted(&depends_on)));
    }
    Ok(Ok(Next { rev, down_revision: down_revision(&parents), more }))
}

/// Whether a new revision may not take `id`: a revision of `graph` has it, or a branch label
/// of `graph` or of `labels` (the new migration's own) starts it. Neither an id nor a label may
/// read as the other, which the build refuses (`branch_label_clash`).
fn id_taken(graph: Option<&Graph>, labels: &[String], id: &str) -> bool {
    graph.is_some_and(|g| g.node(id).is_some() || g.labels().any(|(label, _)| id.starts_with(label)))
        || labels.iter().any(|label| id.starts_with(label.as_str()))
}

/// `--head base`: a new base. A second base needs a branch label to be reached by, and
/// `allow_multiple_bases = true`, which `multiple_bases` reads.
fn new_base(
    project: &Project,
    graph: Option<&migrate_core::graph::Graph>,
    placement: &Placement,
) -> Result<(), Refused> {
    let Some(graph) = graph.filter(|g| !g.is_empty()) else {
        // The first migration is a base anyway.
        return Ok(());
    };
    let setting = "set `allow_multiple_bases = true` under `[package.metadata.migrate]` in Cargo.toml: a second \
                   base is refused by the build (`multiple_bases`) until then";
    let allowed = project.settings.config.allow_multiple_bases;
    if placement.branch_labels.is_empty() {
        return Err(Refused(format!(
            "`--head base` starts a new base beside {}, and a new base needs a branch label\n\
             = help: add `--branch-label <label>`, so that targets reach the new branch (`<label>@head`){}",
            list(&graph.revs_of(&graph.bases())),
            if allowed { String::new() } else { format!("; and {setting}") }
        )));
    }
    if !allowed {
        return Err(Refused(format!(
            "`--head base` would make a second base beside {}\n= help: {setting}",
            list(&graph.revs_of(&graph.bases()))
        )));
    }
    Ok(())
}

/// The revision `--head` names, which must be one revision, a head unless `splice`.
fn follow(graph: &migrate_core::graph::Graph, head: &str, splice: bool) -> Result<NodeId, Refused> {
    let nodes = graph.resolve_str(head, &[]).map_err(|e| Refused(format!("--head: {e}")))?;
    match nodes.as_slice() {
        [] => Err(Refused(format!(
            "`--head {head}` names no revision\n= help: `--head base` starts a new base; \
             `--head <label>@head` follows a branch"
        ))),
        [one] if !splice && !graph.children(*one).is_empty() => Err(Refused(format!(
            "revision `{}` is not a head revision; add --splice to create a new branch from it\n\
             = help: its branch goes on with {}; `--head <label>@head` follows a branch's head",
            graph.rev(*one),
            list(&graph.revs_of(&graph.children(*one)))
        ))),
        [one] => Ok(*one),
        several => Err(Refused(format!(
            "`--head {head}` names {} revisions ({}): a new migration follows one\n\
             = help: name one of them, or merge them: `cargo migrate merge -m <slug>`",
            several.len(),
            list(&graph.revs_of(several))
        ))),
    }
}

/// What `depends_on` says for `--depends-on name`: a branch label as given, else the full id
/// of the one revision the target names.
fn dependency(graph: &migrate_core::graph::Graph, name: &str) -> Result<String, Refused> {
    if graph.label(name).is_some() {
        return Ok(name.to_owned());
    }
    let nodes = graph.resolve_str(name, &[]).map_err(|e| Refused(format!("--depends-on: {e}")))?;
    match nodes.as_slice() {
        [one] => Ok(graph.rev(*one).to_owned()),
        other => Err(Refused(format!(
            "`--depends-on {name}` names {} revisions{}: a dependency is one revision or one branch label\n\
             = help: repeat --depends-on for each revision",
            other.len(),
            if other.is_empty() { String::new() } else { format!(" ({})", list(&graph.revs_of(other))) }
        ))),
    }
}

/// The rules on labels and dependencies, run over the folder (`None` when it does not exist
/// yet) with the new migration in it: the command refuses what the build would refuse, in the
/// build's words.
fn refused_by_rules(
    project: &Project,
    folder: Option<&migrate_build::Folder>,
    rev: &str,
    slug: &str,
    parents: &[String],
    labels: &[String],
    depends_on: &[String],
) -> Result<(), Refused> {
    const RULES: [RuleId; 4] = [
        RuleId::DuplicateBranchLabel,
        RuleId::BranchLabelClash,
        RuleId::UnknownDependsOn,
        RuleId::DependencyCycle,
    ];
    let file_name = FileName::format(&stamp_now(), rev, slug);
    let path = project.folder().join(&file_name);
    // Checked as sorting after every file (a file of the same minute may sort after the real
    // name): the new migration is the latest declaration, the one the rules blame.
    let key = format!("~{file_name}");
    let display = folder.map_or_else(|| project.settings.folder.display().to_string(), |f| f.display.clone());
    let mut arguments = vec!["rev".to_owned(), "down_revision".to_owned()];
    if !labels.is_empty() {
        arguments.push("branch_labels".to_owned());
    }
    if !depends_on.is_empty() {
        arguments.push("depends_on".to_owned());
    }
    let new = MigrationFile {
        path: path.display().to_string(),
        display: format!("{}/{file_name}", display),
        file_name: key,
        modules: vec![ModuleSource {
            name: slug.to_owned(),
            rev: Some(rev.to_owned()),
            down_revision: match parents {
                [] => DownRevision::None,
                [one] => DownRevision::One(one.clone()),
                many => DownRevision::Many(many.to_vec()),
            },
            branch_labels: labels.to_vec(),
            depends_on: depends_on.to_vec(),
            arguments,
            ..ModuleSource::default()
        }],
        stray_items: Vec::new(),
        parsed: true,
    };
    let mut files: Vec<&MigrationFile> = folder.iter().flat_map(|f| &f.files).map(|f| &f.source).collect();
    files.push(&new);
    let checked = check_folder(&files, &project.settings.config);
    let found: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.file == new.path && RULES.contains(&d.rule))
        .map(|d| d.rustc_message())
        .collect();
    if found.is_empty() { Ok(()) } else { Err(Refused(found.join("\nerror: "))) }
}

/// `merge -m <slug> [revs]`: a migration merging the given heads (all of them by default);
/// with `splice`, revisions that are not heads too.
pub(crate) fn merge(
    project: &Project,
    slug: &str,
    revs: &[String],
    splice: bool,
) -> Result<Result<String, Refused>> {
    merge_with_ids(project, slug, revs, splice, |taken| generate_id(taken))
}

/// [`merge`], with the new revision's id from `generate`, which is given what the id may not be.
fn merge_with_ids(
    project: &Project,
    slug: &str,
    revs: &[String],
    splice: bool,
    generate: impl FnOnce(&dyn Fn(&str) -> bool) -> String,
) -> Result<Result<String, Refused>> {
    if let Err(refused) = check_name(project, slug) {
        return Ok(Err(refused));
    }
    let folder = project.scan()?;
    let history = History::of(&folder);
    let heads = history.heads();
    let parents: Vec<String> = if revs.is_empty() {
        heads.clone()
    } else {
        let mut chosen: Vec<String> = Vec::new();
        for target in revs {
            // Any target naming revisions: an id or a prefix, a label, `heads`, `label@head`.
            let nodes = match history.graph.resolve_str(target, &[]) {
                Ok(nodes) => nodes,
                Err(error) => return Ok(Err(Refused(error.to_string()))),
            };
            for node in nodes {
                let rev = history.graph.rev(node).to_owned();
                if !splice && !history.graph.children(node).is_empty() {
                    return Ok(Err(Refused(format!(
                        "revision `{rev}` is not a head revision; add --splice to merge it all the same\n\
                         = help: a merge joins heads: the heads are {}",
                        list(&heads)
                    ))));
                }
                if !chosen.contains(&rev) {
                    chosen.push(rev);
                }
            }
        }
        chosen
    };
    if parents.len() < 2 {
        return Ok(Err(Refused(format!(
            "nothing to merge: the history has {} head{} ({})\n= help: `cargo migrate revision -m <slug>` adds a migration",
            heads.len(),
            if heads.len() == 1 { "" } else { "s" },
            list(&heads)
        ))));
    }
    let rev = generate(&|id| id_taken(Some(&history.graph), &[], id));
    let next = Next { rev, down_revision: down_revision(&parents), more: String::new() };
    let path = write_template(project, &next, slug, MERGE_FUNCTIONS)?;
    Ok(Ok(path))
}

#[cfg(test)]
mod tests {
    use migrate_build::Settings;

    use super::*;

    /// A crate in a temporary folder of its own, removed when dropped.
    struct Crate {
        project: Project,
    }

    impl Crate {
        /// A crate named after `test`, with the migrations `(rev, parents, slug, more)` when there
        /// are any, and no migrations folder otherwise.
        fn new(test: &str, migrations: &[(&str, &[&str], &str, &str)]) -> Crate {
            let dir =
                std::env::temp_dir().join(format!("migrate-cli-revision-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("creates");
            let manifest = dir.join("Cargo.toml");
            let text = "[package]\nname = \"revision-fixture\"\nversion = \"0.1.0\"\nedition = \"2024\"\n";
            std::fs::write(&manifest, text).expect("writes");
            let settings = Settings::parse(text).expect("settings");
            let project = Project { dir, manifest, settings };
            for (i, (rev, parents, slug, more)) in migrations.iter().enumerate() {
                std::fs::create_dir_all(project.folder()).expect("creates");
                let name = format!("20241021_{:04}_{rev}_{slug}.rs", 900 + i);
                let text = migration_text("Why.", rev, &down_revision(parents), more, slug, MERGE_FUNCTIONS);
                std::fs::write(project.folder().join(name), text).expect("writes");
            }
            Crate { project }
        }
    }

    impl Drop for Crate {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.project.dir);
        }
    }

    #[test]
    fn a_merge_takes_no_id_a_branch_label_starts() {
        let fixture = Crate::new(
            "merge-label",
            &[
                ("aaaa00000001", &[], "add_people_table", ""),
                ("bbbb00000002", &["aaaa00000001"], "add_notes_table", ", branch_labels = [\"beef\"]"),
                ("cccc00000003", &["aaaa00000001"], "add_tags_table", ""),
            ],
        );
        // The first id offered reads as the label `beef`: the next is taken.
        let offered = ["beef00000004", "dddd00000004"];
        let generate = |taken: &dyn Fn(&str) -> bool| {
            offered.iter().find(|id| !taken(id)).map(|id| (*id).to_owned()).expect("an id")
        };
        let path = merge_with_ids(&fixture.project, "merge_notes_and_tags", &[], false, generate)
            .expect("writes")
            .unwrap_or_else(|Refused(why)| panic!("refused: {why}"));
        assert!(path.contains("_dddd00000004_merge_notes_and_tags.rs"), "{path}");
    }

    #[test]
    fn a_merge_takes_targets_as_alembic_spells_them() {
        let fixture = Crate::new(
            "merge-targets",
            &[
                ("aaaa00000001", &[], "add_people_table", ""),
                ("bbbb00000002", &["aaaa00000001"], "add_notes_table", ", branch_labels = [\"notes\"]"),
                ("cccc00000003", &["aaaa00000001"], "add_tags_table", ""),
            ],
        );
        let merged = |targets: &[&str]| {
            let targets: Vec<String> = targets.iter().map(|t| (*t).to_owned()).collect();
            let path = merge_with_ids(&fixture.project, "merge_notes_and_tags", &targets, false, |_| {
                "dddd00000004".to_owned()
            })
            .expect("writes")
            .unwrap_or_else(|Refused(why)| panic!("{targets:?} refused: {why}"));
            let name = path.rsplit('/').next().expect("a file name").to_owned();
            let file = fixture.project.folder().join(name);
            let text = std::fs::read_to_string(&file).expect("reads");
            std::fs::remove_file(&file).expect("removes");
            text
        };
        for targets in [&["heads"][..], &["notes@head", "cccc"], &["heads", "notes"]] {
            let text = merged(targets);
            assert!(
                text.contains("down_revision = [\"bbbb00000002\", \"cccc00000003\"]"),
                "{targets:?}: {text}"
            );
        }
    }

    /// The labels and dependencies of the scanned folder's files, sorted (files of the same
    /// minute sort by their random id), with `None` for a file that does not parse.
    fn scanned(fixture: &Crate) -> Vec<Option<(Vec<String>, Vec<String>)>> {
        let folder = fixture.project.scan().expect("scans");
        let mut found: Vec<_> = folder
            .files
            .iter()
            .map(|f| {
                let module = f.source.modules.first().filter(|_| f.source.parsed)?;
                Some((module.branch_labels.clone(), module.depends_on.clone()))
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn labels_and_dependencies_are_written_as_rust_strings() {
        let fixture = Crate::new("quoted-labels", &[("aaaa00000001", &[], "add_people_table", "")]);
        let labels = vec!["au\"dit".to_owned(), "lo\\g".to_owned()];
        let placement = Placement { branch_labels: labels.clone(), ..Placement::default() };
        let written = revision(&fixture.project, "add_audit_log_table", &placement).expect("writes");
        assert!(written.is_ok(), "refused: {}", written.err().map(|r| r.0).unwrap_or_default());
        let placement = Placement {
            head: Some("aaaa00000001".to_owned()),
            splice: true,
            depends_on: vec!["au\"dit".to_owned()],
            ..Placement::default()
        };
        let written = revision(&fixture.project, "add_audit_entries_table", &placement).expect("writes");
        assert!(written.is_ok(), "refused: {}", written.err().map(|r| r.0).unwrap_or_default());
        assert_eq!(
            scanned(&fixture),
            [Some((vec![], vec![])), Some((vec![], vec!["au\"dit".to_owned()])), Some((labels, vec![]))]
        );
    }

    #[test]
    fn the_first_migrations_labels_are_checked_before_the_folder_exists() {
        let fixture = Crate::new("first-label", &[]);
        let placement = Placement { branch_labels: vec!["head".to_owned()], ..Placement::default() };
        let Ok(Err(Refused(why))) = revision(&fixture.project, "add_people_table", &placement) else {
            panic!("a label the build refuses is written");
        };
        assert!(why.contains("branch label `head` is a word of the target grammar"), "{why}");
        assert!(!fixture.project.folder().exists(), "nothing is written");
    }
}

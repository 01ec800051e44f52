//! `revision -m <slug>` and `merge -m <slug> [revs]`: new migration files, named and parented
//! right, refused before anything is written when the name is vague or the history has
//! several heads.

use anyhow::{Result, bail};
use migrate_core::id::generate_id;
use migrate_core::naming::{FileName, check_slug};
use migrate_core::rules::missing_why::WHY_PLACEHOLDER;
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
fn write_template(
    project: &Project,
    rev: &str,
    slug: &str,
    down_revision: &str,
    functions: &str,
) -> Result<String> {
    write_migration(project, rev, slug, down_revision, WHY_PLACEHOLDER, "", functions)
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

/// `revision -m <slug>`: a migration following the head.
pub(crate) fn revision(project: &Project, slug: &str) -> Result<Result<String, Refused>> {
    let (rev, parent) = match next_revision(project, slug)? {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)),
    };
    let path = write_template(project, &rev, slug, &parent, NEW_FUNCTIONS)?;
    Ok(Ok(path))
}

/// The id and `down_revision` of a migration `slug` following the head; refused for a vague
/// slug or several heads.
pub(crate) fn next_revision(project: &Project, slug: &str) -> Result<Result<(String, String), Refused>> {
    if let Err(refused) = check_name(project, slug) {
        return Ok(Err(refused));
    }
    let folder = if project.folder().is_dir() { Some(project.scan()?) } else { None };
    let history = folder.as_ref().map(History::of);
    let heads = history.as_ref().map(History::heads).unwrap_or_default();
    let parent = match heads.as_slice() {
        [] | [_] => down_revision(&heads),
        several => {
            return Ok(Err(Refused(format!(
                "the history has {} heads ({}): a new migration would not know which to follow\n\
                 = help: merge them first: `cargo migrate merge -m <slug>`",
                several.len(),
                list(several)
            ))));
        }
    };
    let taken = |id: &str| history.as_ref().is_some_and(|h| h.graph.node(id).is_some());
    Ok(Ok((generate_id(taken), parent)))
}

/// `merge -m <slug> [revs]`: a migration merging the given heads (all of them by default).
pub(crate) fn merge(project: &Project, slug: &str, revs: &[String]) -> Result<Result<String, Refused>> {
    if let Err(refused) = check_name(project, slug) {
        return Ok(Err(refused));
    }
    let folder = project.scan()?;
    let history = History::of(&folder);
    let heads = history.heads();
    let parents: Vec<String> = if revs.is_empty() {
        heads.clone()
    } else {
        let mut chosen = Vec::new();
        for rev in revs {
            let node = match history.graph.lookup(rev) {
                Ok(node) => node,
                Err(error) => return Ok(Err(Refused(error.to_string()))),
            };
            let rev = history.graph.rev(node).to_owned();
            if !heads.contains(&rev) {
                return Ok(Err(Refused(format!(
                    "revision `{rev}` is not a head: a merge joins heads\n= help: the heads are {}",
                    list(&heads)
                ))));
            }
            chosen.push(rev);
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
    let taken = |id: &str| history.graph.node(id).is_some();
    let rev = generate_id(taken);
    let path = write_template(project, &rev, slug, &down_revision(&parents), MERGE_FUNCTIONS)?;
    Ok(Ok(path))
}

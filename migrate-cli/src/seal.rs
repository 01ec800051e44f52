//! `seal`: records the meaning of the migrations deployed so far in the folder's `seal.lock`,
//! which every build then checks (see `migrate_core::seal`).

use anyhow::{Result, bail};
use migrate_core::diagnostic::{Locator, RuleId};
use migrate_core::seal::{self, Seal, SealEntry};

use crate::check::{problems, render};
use crate::project::{History, Project};

/// What a seal command did.
pub(crate) struct Sealed {
    /// Migrations sealed by this command.
    pub(crate) added: usize,
    /// Sealed migrations whose new meaning was accepted.
    pub(crate) accepted: usize,
    /// Migrations sealed in all.
    pub(crate) total: usize,
    /// The seal file, as shown.
    pub(crate) display: String,
}

/// Seals `to` (a revision, or every migration when `None`) and its ancestors, and accepts the
/// new meaning of the sealed migrations `accept`. Refuses, printing the problems as `check`
/// does, while the folder has any other than those accepted.
pub(crate) fn seal(project: &Project, to: Option<&str>, accept: &[String]) -> Result<Option<Sealed>> {
    let folder = project.scan_to_seal()?;
    let checked = folder.check(&project.settings.config);
    if let Some(error) = checked.setting_errors.first() {
        bail!("invalid [package.metadata.migrate] in `{}`: {error}", project.manifest.display());
    }
    let mut old = match folder.seal.as_ref().map(|s| &s.seal) {
        Some(Ok(seal)) => seal.clone(),
        Some(Err(_)) | None => Seal::default(),
    };
    // Everything the build would refuse, but the accepted edits.
    let refused: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| {
            !(d.rule == RuleId::SealedMigrationChanged
                && d.locator == Locator::Module
                && folder
                    .file(d)
                    .and_then(|f| f.source.modules.first()?.rev.clone())
                    .is_some_and(|rev| accept.contains(&rev)))
        })
        .cloned()
        .collect();
    let problems = problems(&folder, &refused);
    if !problems.is_empty() {
        for (problem, text) in &problems {
            outln!("{}", render(problem, text))?;
        }
        return Ok(None);
    }
    // What --accept names: sealed migrations whose meaning changed, and only those.
    for rev in accept {
        let Some(entry) = old.get(rev) else {
            bail!(
                "cannot accept `{rev}`: it is not sealed, so there is nothing to accept\n= help: `cargo migrate seal` seals new migrations without `--accept`"
            );
        };
        let changed = checked.diagnostics.iter().any(|d| {
            d.rule == RuleId::SealedMigrationChanged
                && d.locator == Locator::Module
                && folder.file(d).and_then(|f| f.source.modules.first()?.rev.as_deref()) == Some(rev.as_str())
        });
        if !changed {
            bail!(
                "cannot accept `{rev}`: its meaning is the one sealed (`{}` line {})\n= help: `--accept` is for a sealed migration edited on purpose",
                folder.seal.as_ref().map_or("", |s| s.display.as_str()),
                entry.line
            );
        }
    }
    let history = History::of(&folder);
    let wanted = match to {
        Some(rev) => {
            let nodes = history.graph.resolve_str(rev, &history.graph.heads())?;
            history.graph.ancestors(&nodes)
        }
        None => vec![true; history.graph.len()],
    };
    let mut accepted = 0;
    for entry in &mut old.entries {
        if accept.contains(&entry.rev)
            && let Some(index) = folder.files.iter().position(|f| {
                f.source.modules.first().and_then(|m| m.rev.as_deref()) == Some(entry.rev.as_str())
            })
            && let Some(sum) = folder.sum(index)
        {
            entry.sum = sum;
            accepted += 1;
        }
    }
    let mut added = 0;
    for &index in &checked.order {
        let file = &folder.files[index];
        let Some(module) = file.source.modules.first() else {
            continue;
        };
        let Some(rev) = module.rev.clone() else {
            continue;
        };
        let in_target = history.graph.node(&rev).is_some_and(|node| wanted[node]);
        if !in_target || old.get(&rev).is_some() {
            continue;
        }
        let Some(sum) = folder.sum(index) else {
            bail!("cannot seal `{}`: it was not read whole", file.source.display);
        };
        old.entries.push(SealEntry {
            rev,
            parents: module.down_revision.parents().into_iter().map(str::to_owned).collect(),
            sum,
            file_name: file.source.file_name.clone(),
            line: 0,
        });
        added += 1;
    }
    let path = folder.path.join(seal::FILE_NAME);
    let display = format!("{}/{}", folder.display, seal::FILE_NAME);
    let text = old.render(&folder.display);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, &text).map_err(|e| anyhow::anyhow!("cannot write `{display}`: {e}"))?;
    }
    Ok(Some(Sealed { added, accepted, total: old.entries.len(), display }))
}

//! `sealed_migration_changed`: a migration the seal holds as deployed no longer means what it
//! meant when it was sealed: its meaning's sum differs (see [`crate::seal`]: its tokens but the
//! doc comments and `downgrade`, and its included files), or it was moved after other sealed
//! migrations.
//!
//! Why: the guide's rule 4, never edit a deployed migration. The databases that applied it ran
//! the old version; new databases would run the new one, and the two drift apart without a
//! word. The runtime refuses such a migration on a database that recorded it, but only when it
//! reaches one; the seal stops the edit when the code is built. A change is a new migration; an
//! edit that changes nothing a database holds is sealed again on purpose, naming the revision
//! (`cargo migrate seal --accept <rev>`), as `accept` does at run time.

use super::{Analysis, Report, Sealing};
use crate::diagnostic::{Locator, RuleId};
use crate::seal::Seal;

/// `["a", "b"]` as the attribute writes it: `"a"`, `["a", "b"]`, or `None`.
pub(crate) fn written(parents: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = parents.iter().map(|p| format!("\"{}\"", p.as_ref())).collect();
    match quoted.as_slice() {
        [] => "None".to_owned(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

pub(crate) fn check(analysis: &Analysis<'_>, sealing: &Sealing<'_>, seal: &Seal, report: &mut Report) {
    for sealed in &seal.entries {
        let Some(entry) = analysis.sealed_entry(sealing, sealed) else {
            continue;
        };
        let name = &entry.module.name;
        if (sealing.sum)(entry.index).is_some_and(|sum| sum != sealed.sum) {
            report.push(
                entry.file,
                Some(entry.module),
                Locator::Module,
                RuleId::SealedMigrationChanged,
                format!(
                    "migration `{name}` is sealed as deployed (`{}` line {}), and its meaning changed since",
                    sealing.display, sealed.line
                ),
                format!(
                    "a deployed migration is never edited: restore it (`git checkout -- {}`) and write the \
                     change as a new migration (`cargo migrate revision -m <slug>`); if the edit changes \
                     nothing a database holds, seal it again on purpose: `cargo migrate seal --accept {}`",
                    entry.file.display, sealed.rev
                ),
            );
        }
        let parents = entry.module.down_revision.parents();
        if parents != sealed.parents && parents.iter().all(|p| seal.get(p).is_some()) {
            report.push(
                entry.file,
                Some(entry.module),
                Locator::DownRevisionValue,
                RuleId::SealedMigrationChanged,
                format!(
                    "sealed migration `{name}` now follows {}; it was sealed after {}",
                    written(&parents),
                    written(&sealed.parents)
                ),
                format!(
                    "restore `down_revision = {}`: the databases that applied it applied it there",
                    written(&sealed.parents)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, sealed, sealed_found};

    #[test]
    fn an_edited_sealed_migration_is_reported_under_its_name() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"),
        ];
        let seal = sealed(&files);
        // As sealed: nothing.
        assert_eq!(sealed_found(&files, &seal, &[]), []);
        // Its sum changed: reported under its name, with the line of the seal.
        let found = sealed_found(&files, &seal, &[1]);
        assert_eq!(found.len(), 1);
        let (rule, rev, locator, message) = &found[0];
        assert_eq!(
            (rule.as_str(), rev.as_str(), locator.as_str()),
            ("sealed_migration_changed", "b2c3d4e5f6a1", "module")
        );
        assert_eq!(
            message,
            "migration `add_notes_table` is sealed as deployed (`migrations/seal.lock` line 7), and its meaning changed since"
        );
    }

    #[test]
    fn a_sealed_migration_moved_among_sealed_ones_is_reported_under_its_down_revision() {
        let mut files = vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"),
            file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_tags_table"),
        ];
        let seal = sealed(&files);
        files[2] = file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_tags_table");
        let found = sealed_found(&files, &seal, &[]);
        let rules: Vec<(&str, &str, &str)> =
            found.iter().map(|(r, v, l, _)| (r.as_str(), v.as_str(), l.as_str())).collect();
        // The move also leaves two heads; the move is the cause and speaks alone.
        assert_eq!(rules, [("sealed_migration_changed", "c3d4e5f6a1b2", "down")]);
        let message = &found.iter().find(|f| f.2 == "down").expect("reported").3;
        assert_eq!(
            message,
            "sealed migration `add_tags_table` now follows \"a1b2c3d4e5f6\"; it was sealed after \"b2c3d4e5f6a1\""
        );
    }
}

//! `inserted_before_sealed`: a new migration placed before a sealed one, by pointing a sealed
//! migration's `down_revision` at it.
//!
//! Why: the databases that applied the sealed migration are past the point where the new one
//! was put: they would never run it (Alembic and sqlx skip it silently; the runtime refuses
//! them, but only once it reaches one). Sealed migrations are deployed history: a new
//! migration goes after the last of them. Reported under the sealed migration's edited
//! `down_revision`, the token that moved.

use std::collections::HashSet;

use super::{Analysis, Report, Sealing};
use crate::diagnostic::{Locator, RuleId};
use crate::rules::sealed_migration_changed::written;
use crate::seal::Seal;

pub(crate) fn check(analysis: &Analysis<'_>, sealing: &Sealing<'_>, seal: &Seal, report: &mut Report) {
    let last = seal.entries.last().map_or("", |e| e.rev.as_str());
    let sealed_revs: HashSet<&str> = seal.entries.iter().map(|e| e.rev.as_str()).collect();
    for sealed in &seal.entries {
        let Some(entry) = analysis.sealed_entry(sealing, sealed) else {
            continue;
        };
        let parents = entry.module.down_revision.parents();
        if parents == sealed.parents {
            continue;
        }
        let new: Vec<&str> = parents.iter().copied().filter(|p| !sealed_revs.contains(p)).collect();
        let Some(first) = new.first() else {
            continue;
        };
        report.push(
            entry.file,
            Some(entry.module),
            Locator::DownRevisionValue,
            RuleId::InsertedBeforeSealed,
            format!(
                "sealed migration `{}` now comes after `{first}`, which is not sealed: a new migration cannot go \
                 before a deployed one",
                entry.module.name
            ),
            format!(
                "restore `down_revision = {}` here, and give `{first}` a `down_revision` after the last sealed \
                 migration (`{last}`): the databases that applied `{}` would never run it",
                written(&sealed.parents),
                sealed.rev
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, sealed, sealed_found};

    #[test]
    fn a_migration_put_before_a_sealed_one_is_reported_under_the_moved_down_revision() {
        let mut files = vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"),
        ];
        let seal = sealed(&files);
        // Appended after the last sealed one: fine.
        files.push(file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_tags_table"));
        assert_eq!(sealed_found(&files, &seal, &[]), []);
        // Slipped in between: the sealed migration's down_revision names it.
        files[1] = file("20241022_0900", "b2c3d4e5f6a1", &["c3d4e5f6a1b2"], "add_notes_table");
        files[2] = file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_tags_table");
        let found = sealed_found(&files, &seal, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        let (rule, rev, locator, message) = &found[0];
        assert_eq!(
            (rule.as_str(), rev.as_str(), locator.as_str()),
            ("inserted_before_sealed", "b2c3d4e5f6a1", "down")
        );
        assert_eq!(
            message,
            "sealed migration `add_notes_table` now comes after `c3d4e5f6a1b2`, which is not sealed: a new \
             migration cannot go before a deployed one"
        );
    }
}

//! `merge_needs_two_parents`: a `down_revision` list naming fewer than two distinct parents.
//!
//! Why: a list says "this migration merges lines"; with one parent it is a plain step written
//! in a misleading way, with none it is a base in disguise, and a repeated parent hides a
//! forgotten second one.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{DownRevision, MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let DownRevision::Many(parents) = &module.down_revision else {
        return;
    };
    let mut distinct: Vec<&String> = parents.iter().collect();
    distinct.sort();
    distinct.dedup();
    let (message, help) = match distinct.as_slice() {
        [] => (
            "merge list of `down_revision` is empty".to_owned(),
            "write `down_revision = None` for the first migration, or list the heads this migration merges"
                .to_owned(),
        ),
        [one] => (
            format!("merge list of `down_revision` names only `{one}`"),
            format!(
                "write `down_revision = \"{one}\"` for a plain step, or list every head this migration merges"
            ),
        ),
        _ if distinct.len() < parents.len() => (
            "merge list of `down_revision` names a revision twice".to_owned(),
            "list each parent once".to_owned(),
        ),
        _ => return,
    };
    report.push(file, Some(module), Locator::DownRevisionValue, RuleId::MergeNeedsTwoParents, message, help);
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::DownRevision;

    #[test]
    fn lists_of_zero_one_or_repeated_parents() {
        let base = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        for parents in [vec![], vec!["a1b2c3d4e5f6"], vec!["a1b2c3d4e5f6", "a1b2c3d4e5f6"]] {
            let mut merge = file("20241022_0900", "b2c3d4e5f6a1", &[], "merge_interaction_lines");
            merge.modules[0].down_revision =
                DownRevision::Many(parents.iter().map(|p| (*p).to_owned()).collect());
            assert_eq!(
                found(&[base.clone(), merge]),
                rows(&[("merge_needs_two_parents", "b2c3d4e5f6a1", "down")]),
                "{parents:?}"
            );
        }
    }
}

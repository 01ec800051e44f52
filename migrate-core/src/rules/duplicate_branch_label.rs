//! `duplicate_branch_label`: two migrations declare the same branch label.
//!
//! Why: a branch label names one branch, and targets (`audit@head`) and `depends_on` resolve
//! it to the migration declaring it; with two, the same words would mean either branch.
//! Alembic refuses it only when a command loads the scripts. Copying a branch's first
//! migration is the usual cause. The later declaration (by file name, that is by date) is
//! reported, under its label.

use super::{Analysis, Report, code};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::DuplicateLabel { first, again, position } = *problem else {
            continue;
        };
        let (first, again) = (&analysis.entries[first], &analysis.entries[again]);
        let Some(label) = again.module.branch_labels.get(position) else {
            continue;
        };
        let (message, help) = if first.index == again.index {
            (
                format!("branch label {} is listed twice", code(label)),
                "remove the second one: a label is declared once".to_owned(),
            )
        } else {
            (
                format!("branch label {} is already declared by revision {}", code(label), code(first.rev)),
                "a branch label names one branch: rename one of the two labels".to_owned(),
            )
        };
        report.push(
            again.file,
            Some(again.module),
            Locator::BranchLabel(position),
            RuleId::DuplicateBranchLabel,
            message,
            help,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::MigrationFile;

    fn labelled(mut file: MigrationFile, labels: &[&str]) -> MigrationFile {
        file.modules[0].branch_labels = labels.iter().map(|l| (*l).to_owned()).collect();
        file
    }

    #[test]
    fn the_later_declaration_is_reported_under_its_label() {
        // Listed out of date order: the date decides which one is the repeat.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            labelled(
                file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_audit_entries_table"),
                &["reports", "audit"],
            ),
            labelled(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table"),
                &["audit"],
            ),
        ];
        assert_eq!(found(&files), rows(&[("duplicate_branch_label", "c3d4e5f6a1b2", "label:1")]));
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(diagnostic.message, "branch label `audit` is already declared by revision `b2c3d4e5f6a1`");
        assert_eq!(diagnostic.help, "a branch label names one branch: rename one of the two labels");
    }

    #[test]
    fn a_label_listed_twice_in_one_migration() {
        let files =
            [labelled(file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"), &["core", "core"])];
        assert_eq!(found(&files), rows(&[("duplicate_branch_label", "a1b2c3d4e5f6", "label:1")]));
        assert_eq!(check(&files, &Config::default())[0].message, "branch label `core` is listed twice");
    }

    #[test]
    fn a_hostile_label_stays_on_one_line() {
        let files = [
            labelled(file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"), &["a\"`b\u{7}"]),
            labelled(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"),
                &["a\"`b\u{7}"],
            ),
        ];
        let message = &check(&files, &Config::default())[0].message;
        assert_eq!(message, "branch label `` a\"`b\\u{7} `` is already declared by revision `a1b2c3d4e5f6`");
    }

    #[test]
    fn distinct_labels_pass() {
        let files = [
            labelled(file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"), &["core"]),
            labelled(file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"), &["notes"]),
        ];
        assert_eq!(found(&files), []);
    }
}

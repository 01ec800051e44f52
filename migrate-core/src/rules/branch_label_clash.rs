//! `branch_label_clash`: a branch label that a target would read as something else.
//!
//! Why: a target (`upgrade audit@head`, `downgrade audit-1`) and a `depends_on` name a branch
//! by its label, and also name revisions by id or by a prefix of 4 characters or more. A label
//! equal to an id, or the start of one, would silently mean the revision in one place and the
//! branch in another; a word or a character of the target grammar (`head`, `@`, `-`, …) makes
//! the target unreadable. Alembic accepts such labels and fails later, on the command that
//! names them.

use super::{Analysis, Report, code};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::{Clash, Problem};
use crate::id::{RESERVED_CHARS, RESERVED_WORDS};

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::LabelClash { input, position, ref clash } = *problem else {
            continue;
        };
        let entry = &analysis.entries[input];
        let Some(label) = entry.module.branch_labels.get(position) else {
            continue;
        };
        let quoted = code(label);
        let rename = "name the branch by what it holds, with letters, digits and `_`, such as `audit`";
        let (message, help) = match *clash {
            Clash::Revision(other) => (
                format!(
                    "branch label {quoted} equals the id of revision {}",
                    code(analysis.entries[other].rev)
                ),
                format!("a target naming it would mean the revision, not the branch: {rename}"),
            ),
            Clash::Prefix(other) => (
                format!(
                    "branch label {quoted} reads as a prefix of revision {}",
                    code(analysis.entries[other].rev)
                ),
                format!(
                    "targets accept the first {} characters or more of a revision id: {rename}",
                    crate::target::MIN_PREFIX
                ),
            ),
            Clash::Reserved => (
                format!("branch label {quoted} is a word of the target grammar"),
                format!("{} have a meaning in targets: {rename}", words()),
            ),
            Clash::Character(_) if label.is_empty() => (
                "branch label `` is empty".to_owned(),
                format!("a target names a branch by its label: {rename}"),
            ),
            Clash::Character(c) if c.is_whitespace() => (
                format!("branch label {quoted} holds whitespace ({})", code(&c.to_string())),
                format!("a target is one word: {rename}"),
            ),
            Clash::Character(c) => (
                format!("branch label {quoted} holds {}, which targets use", code(&c.to_string())),
                format!("targets use {} (`audit@head`, `head-1`): {rename}", characters()),
            ),
        };
        report.push(
            entry.file,
            Some(entry.module),
            Locator::BranchLabel(position),
            RuleId::BranchLabelClash,
            message,
            help,
        );
    }
}

/// `head`, `heads`, `base` and `current`.
fn words() -> String {
    crate::text::list(RESERVED_WORDS)
}

/// `@`, `-`, `+` and `:`.
fn characters() -> String {
    let characters: Vec<String> = RESERVED_CHARS.iter().map(char::to_string).collect();
    crate::text::list(&characters)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::MigrationFile;

    const RENAME: &str = "name the branch by what it holds, with letters, digits and `_`, such as `audit`";

    /// A base and a migration on it declaring `labels`.
    fn history(labels: &[&str]) -> Vec<MigrationFile> {
        let mut labelled = file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table");
        labelled.modules[0].branch_labels = labels.iter().map(|l| (*l).to_owned()).collect();
        vec![file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"), labelled]
    }

    #[test]
    fn every_clash_says_what_it_clashes_with() {
        let cases: &[(&str, &str, String)] = &[
            (
                "a1b2c3d4e5f6",
                "branch label `a1b2c3d4e5f6` equals the id of revision `a1b2c3d4e5f6`",
                format!("a target naming it would mean the revision, not the branch: {RENAME}"),
            ),
            (
                "b2c3",
                "branch label `b2c3` reads as a prefix of revision `b2c3d4e5f6a1`",
                format!("targets accept the first 4 characters or more of a revision id: {RENAME}"),
            ),
            (
                "heads",
                "branch label `heads` is a word of the target grammar",
                format!("`head`, `heads`, `base` and `current` have a meaning in targets: {RENAME}"),
            ),
            ("", "branch label `` is empty", format!("a target names a branch by its label: {RENAME}")),
            (
                "audit\nlog",
                "branch label `audit\\nlog` holds whitespace (`\\n`)",
                format!("a target is one word: {RENAME}"),
            ),
            (
                "audit-log",
                "branch label `audit-log` holds `-`, which targets use",
                format!("targets use `@`, `-`, `+` and `:` (`audit@head`, `head-1`): {RENAME}"),
            ),
        ];
        for (label, message, help) in cases {
            let files = history(&["audit_log", label]);
            assert_eq!(
                found(&files),
                rows(&[("branch_label_clash", "b2c3d4e5f6a1", "label:1")]),
                "{label:?}"
            );
            let diagnostic = &check(&files, &Config::default())[0];
            assert_eq!(diagnostic.message, *message, "{label:?}");
            assert_eq!(diagnostic.help, *help, "{label:?}");
        }
    }

    #[test]
    fn short_or_unrelated_labels_pass() {
        // Three characters are no prefix a target accepts.
        assert_eq!(found(&history(&["a1b", "audit", "b2c3_reports"])), []);
    }
}

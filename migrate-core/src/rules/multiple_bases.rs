//! `multiple_bases`: more than one migration without a down revision.
//!
//! Why: a history has one first migration. A second base is almost always a new migration
//! whose `down_revision` was forgotten; it would be applied in no defined order relative to
//! the rest. Each base after the first (by file name, that is by date) is reported.
//! Turned off by `allow_multiple_bases = true`, for a forest of independent branches (each
//! with its `branch_labels`), where `multiple_heads` then looks at each tree alone.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::source::DownRevision;
use crate::text::list;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    if analysis.config_allows_bases() {
        return;
    }
    let mut bases = analysis.graph.bases();
    bases.sort_by_key(|&b| analysis.graph.input_of(b));
    let Some((&first, others)) = bases.split_first() else {
        return;
    };
    let first_rev = analysis.graph.rev(first);
    let below = analysis.graph.descendants(&[first]);
    let heads: Vec<&str> =
        analysis.graph.heads().into_iter().filter(|&h| below[h]).map(|h| analysis.graph.rev(h)).collect();
    for &base in others {
        let entry = analysis.entry(base);
        let locator = match entry.module.down_revision {
            DownRevision::None => Locator::DownRevisionValue,
            _ => Locator::Revision,
        };
        report.push(
            entry.file,
            Some(entry.module),
            locator,
            RuleId::MultipleBases,
            format!(
                "revision `{}` is a second base: `{first_rev}` is already the first migration",
                entry.rev
            ),
            format!(
                "set `down_revision` to the migration this one follows: the head of the history is {}. \
                 If it starts an independent branch, give it `branch_labels = \"<name>\"` and set \
                 `allow_multiple_bases = true` under [package.metadata.migrate]",
                list(&heads)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn the_later_base_is_reported_under_its_none() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &[], "add_email_campaigns_table"),
        ];
        // Two bases also make two heads; the base is the cause and speaks alone.
        assert_eq!(found(&files), rows(&[("multiple_bases", "c3d4e5f6a1b2", "down")]));
        let diagnostic = check(&files, &Config::default())
            .into_iter()
            .find(|d| d.rule == crate::diagnostic::RuleId::MultipleBases)
            .expect("reported");
        assert_eq!(
            diagnostic.message,
            "revision `c3d4e5f6a1b2` is a second base: `a1b2c3d4e5f6` is already the first migration"
        );
        assert_eq!(
            diagnostic.help,
            "set `down_revision` to the migration this one follows: the head of the history is `b2c3d4e5f6a1`. \
             If it starts an independent branch, give it `branch_labels = \"<name>\"` and set \
             `allow_multiple_bases = true` under [package.metadata.migrate]"
        );
    }

    #[test]
    fn allowed_by_configuration() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &[], "add_email_campaigns_table"),
        ];
        let config = Config { allow_multiple_bases: true, ..Config::default() };
        // Two trees, one head each: nothing to report.
        assert_eq!(check(&files, &config), []);
    }
}

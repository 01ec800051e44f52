//! `multiple_heads`: more than one head without a merge.
//!
//! Why: two feature branches that each add a migration on the same parent leave two heads;
//! `upgrade head` has no single target and the order between the branches is undefined. This
//! is the most common Alembic complaint, and here it fails the build of the merged code, not
//! the deploy. Turned off by `allow_multiple_heads = true`.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::text::list;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    let heads = analysis.graph.heads();
    if heads.len() < 2 || analysis.config_allows_heads() {
        return;
    }
    let revs = analysis.graph.revs_of(&heads);
    for &head in &heads {
        let entry = analysis.entry(head);
        report.push(
            entry.file,
            Some(entry.module),
            Locator::Revision,
            RuleId::MultipleHeads,
            format!("revision `{}` is one of {} heads: {}", entry.rev, heads.len(), list(&revs)),
            format!(
                "merge them with `cargo migrate merge -m <slug> {}`, or make one a child of the other",
                revs.join(" ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    fn forked() -> Vec<crate::source::MigrationFile> {
        vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_email_campaigns_table"),
        ]
    }

    #[test]
    fn every_head_is_reported_with_the_merge_command() {
        let files = forked();
        assert_eq!(
            found(&files),
            rows(&[("multiple_heads", "b2c3d4e5f6a1", "rev"), ("multiple_heads", "c3d4e5f6a1b2", "rev")])
        );
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(
            diagnostic.message,
            "revision `b2c3d4e5f6a1` is one of 2 heads: `b2c3d4e5f6a1` and `c3d4e5f6a1b2`"
        );
        assert_eq!(
            diagnostic.help,
            "merge them with `cargo migrate merge -m <slug> b2c3d4e5f6a1 c3d4e5f6a1b2`, or make one a child of the other"
        );
    }

    #[test]
    fn allowed_by_configuration() {
        let config = Config { allow_multiple_heads: true, ..Config::default() };
        assert_eq!(check(&forked(), &config), []);
    }
}

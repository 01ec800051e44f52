//! `multiple_heads`: more than one head without a merge.
//!
//! Why: two feature branches that each add a migration on the same parent leave two heads;
//! `upgrade head` has no single target and the order between the branches is undefined. This
//! is the most common Alembic complaint, and here it fails the build of the merged code, not
//! the deploy. Turned off by `allow_multiple_heads = true`. Under `allow_multiple_bases =
//! true` the history may be a forest of independent branches, one head each: only heads
//! that share a base (their down revisions lead back to one same base) are reported, with
//! the heads they share it with. An effective head (a head some revision depends on) is never
//! a head here: the dependant's row stands for it.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::text::list;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    let heads = analysis.graph.heads();
    if heads.len() < 2 || analysis.config_allows_heads() {
        return;
    }
    let groups = if analysis.config_allows_bases() { sharing_a_base(analysis, &heads) } else { vec![heads] };
    for heads in groups.iter().filter(|g| g.len() > 1) {
        report_group(analysis, heads, report);
    }
}

/// The heads grouped by tree: two heads whose down revisions lead back to a common base are
/// in one group (and so, transitively, are the heads sharing a base with either). Groups keep
/// the heads' linear order.
fn sharing_a_base(analysis: &Analysis<'_>, heads: &[usize]) -> Vec<Vec<usize>> {
    let graph = &analysis.graph;
    let bases = graph.bases();
    // For each head, the bases its down revisions lead back to.
    let reached: Vec<Vec<bool>> = heads
        .iter()
        .map(|&head| {
            let lineage = graph.lineage(head);
            bases.iter().map(|&b| lineage[b]).collect()
        })
        .collect();
    let mut group: Vec<usize> = (0..heads.len()).collect();
    for (i, a) in reached.iter().enumerate() {
        for (j, b) in reached.iter().enumerate().skip(i + 1) {
            if a.iter().zip(b).any(|(x, y)| *x && *y) {
                let (from, to) = (group[j], group[i]);
                for g in &mut group {
                    if *g == from {
                        *g = to;
                    }
                }
            }
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (&head, &id) in heads.iter().zip(&group) {
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, members)) => members.push(head),
            None => groups.push((id, vec![head])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

fn report_group(analysis: &Analysis<'_>, heads: &[usize], report: &mut Report) {
    let revs = analysis.graph.revs_of(heads);
    for &head in heads {
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
    use crate::rules::fixtures::{file, found, rows, with};
    use crate::source::MigrationFile;

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

    fn forest() -> Config {
        Config { allow_multiple_bases: true, ..Config::default() }
    }

    /// Rule and revision of each diagnostic.
    fn reported(files: &[MigrationFile], config: &Config) -> Vec<(String, String)> {
        check(files, config)
            .into_iter()
            .map(|d| {
                let rev = files.iter().find(|f| f.path == d.file).and_then(|f| f.modules[0].rev.clone());
                (d.rule.to_string(), rev.unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn a_forest_of_independent_branches_builds_with_one_head_each() {
        // Two trees: a ← b, and c (labelled audit) ← d.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_interactions_table"),
            with(file("20241023_0900", "c3d4e5f6a1b2", &[], "add_audit_log_table"), &["audit"], &[]),
            file("20241024_0900", "d4e5f6a1b2c3", &["c3d4e5f6a1b2"], "add_audit_entries_table"),
        ];
        assert_eq!(check(&files, &forest()), []);
        // Without the setting, the second base is reported, and alone.
        assert_eq!(
            reported(&files, &Config::default()),
            [("multiple_bases".to_owned(), "c3d4e5f6a1b2".to_owned())]
        );
    }

    #[test]
    fn a_forest_linked_by_depends_on_builds() {
        // Two trees: a ← b, and c (labelled audit) ← d; b depends on the audit branch, and the
        // audit tree's base depends on a. Each tree keeps its one head, and d, which b depends
        // on, is no head at all.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_interactions_table"),
                &[],
                &["d4e5f6a1b2c3"],
            ),
            with(
                file("20241021_1000", "c3d4e5f6a1b2", &[], "add_audit_log_table"),
                &["audit"],
                &["a1b2c3d4e5f6"],
            ),
            file("20241021_1100", "d4e5f6a1b2c3", &["c3d4e5f6a1b2"], "add_audit_entries_table"),
        ];
        assert_eq!(check(&files, &forest()), []);
        // A dependency does not make two trees one: a second head in the first tree is
        // reported with its sibling only; a new head in the audit tree is alone there, since
        // d, which b depends on, is only an effective head.
        let mut forked = files.to_vec();
        forked.push(file("20241025_0900", "e5f6a1b2c3d4", &["a1b2c3d4e5f6"], "add_notes_table"));
        forked.push(file("20241026_0900", "f6a1b2c3d4e5", &["c3d4e5f6a1b2"], "add_audit_reasons_table"));
        let diagnostics = check(&forked, &forest());
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "revision `b2c3d4e5f6a1` is one of 2 heads: `b2c3d4e5f6a1` and `e5f6a1b2c3d4`",
                "revision `e5f6a1b2c3d4` is one of 2 heads: `b2c3d4e5f6a1` and `e5f6a1b2c3d4`",
            ]
        );
    }

    #[test]
    fn in_a_forest_heads_sharing_a_base_are_still_reported() {
        // The first tree forks; the second tree has one head.
        let mut files = forked();
        files.push(with(file("20241024_0900", "d4e5f6a1b2c3", &[], "add_audit_log_table"), &["audit"], &[]));
        assert_eq!(
            reported(&files, &forest()),
            [
                ("multiple_heads".to_owned(), "b2c3d4e5f6a1".to_owned()),
                ("multiple_heads".to_owned(), "c3d4e5f6a1b2".to_owned()),
            ]
        );
        let diagnostic = &check(&files, &forest())[0];
        assert_eq!(
            diagnostic.message,
            "revision `b2c3d4e5f6a1` is one of 2 heads: `b2c3d4e5f6a1` and `c3d4e5f6a1b2`"
        );
    }

    #[test]
    fn in_a_forest_a_merge_joins_two_trees() {
        // a ← m → c: m merges the two trees, and then both grow a head: a ← b, m ← n.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "c3d4e5f6a1b2", &[], "add_audit_log_table"),
            file(
                "20241023_0900",
                "d4e5f6a1b2c3",
                &["a1b2c3d4e5f6", "c3d4e5f6a1b2"],
                "merge_people_and_audit",
            ),
            file("20241024_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_interactions_table"),
        ];
        let rules: Vec<String> = reported(&files, &forest()).into_iter().map(|(rule, _)| rule).collect();
        assert_eq!(rules, ["multiple_heads", "multiple_heads"]);
    }
}

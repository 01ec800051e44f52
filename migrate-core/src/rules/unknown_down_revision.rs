//! `unknown_down_revision`: a down revision names no migration.
//!
//! Why: the chain would break at deploy time. Alembic fails with a raw `KeyError` only when
//! somebody runs it. A typo, or a migration whose parent was renamed or deleted, is the
//! usual cause; the help names the current head and the closest id.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;
use crate::text::{closest, list};

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::UnknownParent { child, position } = *problem else {
            continue;
        };
        let entry = &analysis.entries[child];
        let parents = entry.module.down_revision.parents();
        let missing = parents[position];
        let node = analysis.graph.node(entry.rev).filter(|&n| analysis.graph.input_of(n) == child);
        let heads = analysis.heads_without(node);
        let ids = analysis.entries.iter().map(|e| e.rev).filter(|r| *r != entry.rev);
        let near = closest(missing, ids);
        let mut hints = Vec::new();
        match (heads.as_slice(), near) {
            ([head], Some(near)) if *head == near => {
                hints.push(format!("did you mean `{near}`, the current head?"));
            }
            ([], _) => hints
                .push("no other migration exists: write `down_revision = None` for the first one".to_owned()),
            ([head], _) => hints.push(format!("the current head is `{head}`")),
            (heads, _) => hints.push(format!("the current heads are {}", list(heads))),
        }
        if let Some(near) = near.filter(|near| !heads.contains(near)) {
            hints.push(format!("the closest id is `{near}`"));
        }
        report.push(
            entry.file,
            Some(entry.module),
            Locator::DownRevision(position),
            RuleId::UnknownDownRevision,
            format!("down revision `{missing}` names no migration"),
            hints.join("; "),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn a_typo_points_at_the_literal_and_suggests_the_head_and_the_closest_id() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a2"], "add_email_campaigns_table"),
        ];
        assert_eq!(found(&files), rows(&[("unknown_down_revision", "c3d4e5f6a1b2", "down:0")]));
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(diagnostic.message, "down revision `b2c3d4e5f6a2` names no migration");
        assert_eq!(diagnostic.help, "did you mean `b2c3d4e5f6a1`, the current head?");
    }

    #[test]
    fn a_typo_of_an_older_revision() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f7"], "add_email_campaigns_table"),
        ];
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(diagnostic.help, "the current head is `b2c3d4e5f6a1`; the closest id is `a1b2c3d4e5f6`");
    }

    #[test]
    fn the_second_parent_of_a_merge() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file(
                "20241022_0900",
                "b2c3d4e5f6a1",
                &["a1b2c3d4e5f6", "ffffffffffff"],
                "merge_interaction_lines",
            ),
        ];
        assert_eq!(found(&files), rows(&[("unknown_down_revision", "b2c3d4e5f6a1", "down:1")]));
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(diagnostic.help, "the current head is `a1b2c3d4e5f6`");
    }
}

//! `revision_cycle`: revisions that are each other's ancestors.
//!
//! Why: a cycle has no order to apply in. Only the revisions on the cycle are reported (not
//! the innocent ones below or above it, as Alembic does when no head or base is left), each
//! under the down revision that closes the loop.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::Cycle { members } = problem else {
            continue;
        };
        let revs: Vec<&str> = members.iter().map(|&m| analysis.entries[m].rev).collect();
        let mut path: Vec<String> = revs.iter().map(|r| format!("`{r}`")).collect();
        path.push(format!("`{}`", revs[0]));
        for (i, &member) in members.iter().enumerate() {
            let entry = &analysis.entries[member];
            let next = revs[(i + 1) % revs.len()];
            let position = entry.module.down_revision.parents().iter().position(|p| *p == next).unwrap_or(0);
            let (message, help) = if members.len() == 1 {
                (
                    format!("revision `{}` names itself as its down revision", entry.rev),
                    "name the migration this one follows, or `None` for the first migration".to_owned(),
                )
            } else {
                (
                    format!("revision `{}` is on a cycle: {}", entry.rev, path.join(" → ")),
                    "a down revision names an older migration: point one of these at the migration the cycle should follow"
                        .to_owned(),
                )
            };
            report.push(
                entry.file,
                Some(entry.module),
                Locator::DownRevision(position),
                RuleId::RevisionCycle,
                message,
                help,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn only_the_revisions_on_the_cycle_are_reported() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file(
                "20241022_0900",
                "b2c3d4e5f6a1",
                &["a1b2c3d4e5f6", "d4e5f6a1b2c3"],
                "merge_interaction_lines",
            ),
            file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_email_campaigns_table"),
            file("20241024_0900", "d4e5f6a1b2c3", &["c3d4e5f6a1b2"], "add_lead_scores_table"),
            file("20241025_0900", "e5f6a1b2c3d4", &["d4e5f6a1b2c3"], "add_ai_summary_to_interactions"),
        ];
        assert_eq!(
            found(&files),
            rows(&[
                ("revision_cycle", "b2c3d4e5f6a1", "down:1"),
                ("revision_cycle", "c3d4e5f6a1b2", "down:0"),
                ("revision_cycle", "d4e5f6a1b2c3", "down:0"),
            ])
        );
        let message = &check(&files, &Config::default())[0].message;
        assert_eq!(
            message,
            "revision `b2c3d4e5f6a1` is on a cycle: `b2c3d4e5f6a1` → `d4e5f6a1b2c3` → `c3d4e5f6a1b2` → `b2c3d4e5f6a1`"
        );
    }

    #[test]
    fn a_self_loop() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["b2c3d4e5f6a1"], "add_status_to_interactions"),
        ];
        assert_eq!(found(&files), rows(&[("revision_cycle", "b2c3d4e5f6a1", "down:0")]));
    }
}

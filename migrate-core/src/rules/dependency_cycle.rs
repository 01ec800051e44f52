//! `dependency_cycle`: revisions that need each other first, through at least one
//! `depends_on`.
//!
//! Why: a dependency is applied before its dependant, like a down revision; a loop of them
//! has no order to apply in. Cycles through down revisions alone are `revision_cycle`; here
//! the loop closes through a `depends_on`, usually one naming a label or a revision that grows
//! from the migration itself. Only the revisions on the cycle are reported, each under the
//! `down_revision` or `depends_on` literal that names the next one.

use super::{Analysis, Report, code};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::{Edge, Problem};

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::DependencyCycle { members, via } = problem else {
            continue;
        };
        let revs: Vec<&str> = members.iter().map(|&m| analysis.entries[m].rev).collect();
        let mut path: Vec<String> = revs.iter().map(|r| code(r)).collect();
        if let Some(first) = revs.first() {
            path.push(code(first));
        }
        for (&member, edge) in members.iter().zip(via) {
            let entry = &analysis.entries[member];
            let locator = match *edge {
                Edge::Parent(position) => Locator::DownRevision(position),
                Edge::DependsOn(position) => Locator::DependsOn(position),
            };
            let (message, help) = if members.len() == 1 {
                let through = match *edge {
                    Edge::DependsOn(position) => entry
                        .module
                        .depends_on
                        .get(position)
                        .filter(|name| name.as_str() != entry.rev)
                        .map(|label| format!(" through its branch label {}", code(label))),
                    Edge::Parent(_) => None,
                };
                (
                    format!("revision {} depends on itself{}", code(entry.rev), through.unwrap_or_default()),
                    "remove it from `depends_on`: a migration needs nothing applied to be itself".to_owned(),
                )
            } else {
                (
                    format!("revision {} is on a dependency cycle: {}", code(entry.rev), path.join(" → ")),
                    "`depends_on` and `down_revision` name what is applied first: remove the `depends_on` \
                     that names a migration growing from this one, or point it at an older one"
                        .to_owned(),
                )
            };
            report.push(entry.file, Some(entry.module), locator, RuleId::DependencyCycle, message, help);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{audit_history, file, found, rows, with};

    #[test]
    fn each_member_is_reported_under_the_edge_naming_the_next() {
        // a ← b ← c, and b depends on c: b needs c first, c needs b first.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_interactions_table"),
                &[],
                &["a1b2c3d4e5f6", "c3d4e5f6a1b2"],
            ),
            file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_email_campaigns_table"),
            file("20241024_0900", "d4e5f6a1b2c3", &["c3d4e5f6a1b2"], "add_lead_scores_table"),
        ];
        assert_eq!(
            found(&files),
            rows(&[
                ("dependency_cycle", "b2c3d4e5f6a1", "depends:1"),
                ("dependency_cycle", "c3d4e5f6a1b2", "down:0"),
            ])
        );
        let diagnostics = check(&files, &Config::default());
        assert_eq!(
            diagnostics[0].message,
            "revision `b2c3d4e5f6a1` is on a dependency cycle: `b2c3d4e5f6a1` → `c3d4e5f6a1b2` → `b2c3d4e5f6a1`"
        );
        assert_eq!(
            diagnostics[0].help,
            "`depends_on` and `down_revision` name what is applied first: remove the `depends_on` that names a \
             migration growing from this one, or point it at an older one"
        );
        assert_eq!(
            diagnostics[1].message,
            diagnostics[0].message.replacen("b2c3d4e5f6a1", "c3d4e5f6a1b2", 1)
        );
    }

    #[test]
    fn a_cycle_through_a_label_on_another_branch() {
        // Two branches from a: b (labelled audit) depends on c, and c depends on audit.
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table"),
                &["audit"],
                &["c3d4e5f6a1b2"],
            ),
            with(
                file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_interactions_table"),
                &[],
                &["audit"],
            ),
        ];
        assert_eq!(
            found(&files),
            rows(&[
                ("dependency_cycle", "b2c3d4e5f6a1", "depends:0"),
                ("dependency_cycle", "c3d4e5f6a1b2", "depends:0"),
            ])
        );
    }

    #[test]
    fn a_self_dependency_has_its_own_message() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table"),
                &["audit"],
                &["audit"],
            ),
        ];
        assert_eq!(found(&files), rows(&[("dependency_cycle", "b2c3d4e5f6a1", "depends:0")]));
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(
            diagnostic.message,
            "revision `b2c3d4e5f6a1` depends on itself through its branch label `audit`"
        );
        assert_eq!(
            diagnostic.help,
            "remove it from `depends_on`: a migration needs nothing applied to be itself"
        );

        let by_id = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            with(
                file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_audit_log_table"),
                &[],
                &["b2c3d4e5f6a1"],
            ),
        ];
        assert_eq!(check(&by_id, &Config::default())[0].message, "revision `b2c3d4e5f6a1` depends on itself");
    }

    #[test]
    fn a_dependency_on_an_older_branch_passes() {
        assert_eq!(found(&audit_history(&["audit"])), []);
    }
}

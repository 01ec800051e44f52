//! `unknown_depends_on`: a `depends_on` names neither a revision nor a branch label.
//!
//! Why: a dependency says what must be applied first; one that names nothing would be
//! dropped, and the migration applied before what it needs. Alembic fails with a raw
//! `KeyError` only when somebody runs it. A typo, or a label renamed on its branch, is the
//! usual cause; the help names the closest revision id or branch label.

use super::{Analysis, Report, code};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;
use crate::text::closest;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::UnknownDependency { child, position } = *problem else {
            continue;
        };
        let entry = &analysis.entries[child];
        let Some(missing) = entry.module.depends_on.get(position) else {
            continue;
        };
        let ids = analysis.entries.iter().map(|e| e.rev).filter(|r| *r != entry.rev);
        let labels = analysis.graph.labels().map(|(label, _)| label);
        let near = closest(missing, ids.chain(labels)).map(|near| {
            if analysis.has_rev(near) {
                format!("revision {}", code(near))
            } else {
                format!("the branch label {}", code(near))
            }
        });
        let known = "`depends_on` names the revision id or the branch label of a migration to apply first";
        let help = match near {
            Some(near) => format!("did you mean {near}? {known}"),
            None => known.to_owned(),
        };
        report.push(
            entry.file,
            Some(entry.module),
            Locator::DependsOn(position),
            RuleId::UnknownDependsOn,
            format!("`depends_on` name {} is neither a revision nor a branch label", code(missing)),
            help,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{audit_history, found, rows};

    #[test]
    fn a_misspelt_label_points_at_the_literal_and_suggests_the_label() {
        let files = audit_history(&["a1b2c3d4e5f6", "audt"]);
        assert_eq!(found(&files), rows(&[("unknown_depends_on", "c3d4e5f6a1b2", "depends:1")]));
        let diagnostic = &check(&files, &Config::default())[0];
        assert_eq!(diagnostic.message, "`depends_on` name `audt` is neither a revision nor a branch label");
        assert_eq!(
            diagnostic.help,
            "did you mean the branch label `audit`? `depends_on` names the revision id or the branch label of a \
             migration to apply first"
        );
    }

    #[test]
    fn a_misspelt_revision_suggests_the_revision() {
        let diagnostic = &check(&audit_history(&["b2c3d4e5f6a2"]), &Config::default())[0];
        assert_eq!(diagnostic.locator, crate::diagnostic::Locator::DependsOn(0));
        assert!(diagnostic.help.starts_with("did you mean revision `b2c3d4e5f6a1`? "), "{}", diagnostic.help);
    }

    #[test]
    fn nothing_close_and_a_hostile_name() {
        let diagnostic = &check(&audit_history(&["no`such\nthing"]), &Config::default())[0];
        assert_eq!(
            diagnostic.message,
            "`depends_on` name `` no`such\\nthing `` is neither a revision nor a branch label"
        );
        assert_eq!(
            diagnostic.help,
            "`depends_on` names the revision id or the branch label of a migration to apply first"
        );
    }

    #[test]
    fn known_names_pass_and_hold_back_the_shape_rules_when_unknown() {
        // The label and the revision are both known: one head, nothing to report.
        assert_eq!(found(&audit_history(&["audit", "a1b2c3d4e5f6"])), []);
        // Unknown, the dependency leaves `b2c3…` a second head; only the cause is reported.
        let rules: Vec<String> =
            found(&audit_history(&["ffffffffffff"])).into_iter().map(|(r, _, _)| r).collect();
        assert_eq!(rules, ["unknown_depends_on"]);
    }
}

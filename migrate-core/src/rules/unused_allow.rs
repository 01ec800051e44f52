//! `unused_allow`: an entry of `allow(…)` that takes no effect: it names no lock rule, gives no
//! reason (an override must say why), or matches nothing the migration does (the risk it
//! excused is gone, so the excuse must go too, or it would silence the next one).

use crate::diagnostic::{Locator, RuleId};
use crate::rules::Report;
use crate::source::{MigrationFile, ModuleSource};

/// The rules `allow(…)` can override: the lock rules. The others (the chain, names, the seal)
/// have no safe exception.
pub const OVERRIDABLE: [RuleId; 10] = [
    RuleId::BlockingIndex,
    RuleId::ConstraintWithoutNotValid,
    RuleId::BlockingNotNull,
    RuleId::RewritingTypeChange,
    RuleId::RewritingAddColumn,
    RuleId::BlockingUnique,
    RuleId::EnumValueInTransaction,
    RuleId::DestructiveChange,
    RuleId::LockTimeoutDisabled,
    RuleId::UncheckedSql,
];

/// Reports the entries of the module's `allow(…)` not marked `used`.
pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, used: &[bool], report: &mut Report) {
    for (i, allow) in module.allows.iter().enumerate() {
        let known = OVERRIDABLE.iter().any(|r| r.as_str() == allow.rule);
        let (message, help) = if !known {
            let ids: Vec<&str> = OVERRIDABLE.iter().map(|r| r.as_str()).collect();
            (
                format!("`allow({})` names no rule an override can lift", allow.rule),
                format!("name one of {}", ids.join(", ")),
            )
        } else if allow.reason.is_none() {
            (
                format!("`allow({})` gives no reason", allow.rule),
                format!(
                    "say why breaking it is safe here: `allow({} = \"the table holds 200 rows\")`",
                    allow.rule
                ),
            )
        } else if !used.get(i).copied().unwrap_or(false) {
            (
                format!("`allow({})` matches nothing this migration does", allow.rule),
                "remove it: an override left behind would let the next unsafe change through unseen"
                    .to_owned(),
            )
        } else {
            continue;
        };
        report.push(file, Some(module), Locator::Allow(i), RuleId::UnusedAllow, message, help);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings_allowing;

    #[test]
    fn an_allow_with_a_reason_silences_its_rule() {
        let found = findings_allowing(
            &["CREATE TABLE t (id bigint)", "CREATE INDEX t_id ON t (id)"],
            &[("blocking_index", Some("the table holds 200 rows"))],
        );
        assert_eq!(found, []);
    }

    #[test]
    fn allows_that_take_no_effect_are_reported() {
        let found = findings_allowing(
            &["CREATE TABLE t (id bigint)", "CREATE INDEX t_id ON t (id)"],
            &[
                ("blocking_index", None),
                ("rewriting_type_change", Some("old")),
                ("multiple_heads", Some("x")),
            ],
        );
        let messages: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`CREATE INDEX t_id ON t (id)` takes a SHARE lock on `t` for the whole build: writes to `t` wait until it ends",
                "`allow(blocking_index)` gives no reason",
                "`allow(rewriting_type_change)` matches nothing this migration does",
                "`allow(multiple_heads)` names no rule an override can lift",
            ],
            "{found:?}"
        );
    }
}

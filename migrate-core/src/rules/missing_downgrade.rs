//! `missing_downgrade`: a migration without a `downgrade` function.
//!
//! Why: the guide tests "downgrade then upgrade" before every merge; a migration that cannot
//! be undone must say so (`op.irreversible("reason")`) instead of leaving the operator to
//! find out during an incident. sqlx silently skips a missing down file; here it is an error.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    if module.function("downgrade").is_some() {
        return;
    }
    report.push(
        file,
        Some(module),
        Locator::Module,
        RuleId::MissingDowngrade,
        format!("migration `{}` has no `downgrade` function", module.name),
        "add `pub fn downgrade(op: &mut Op)` undoing `upgrade`; when nothing can undo it, \
         say why inside it: `op.irreversible(\"reason\")`"
            .to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn no_downgrade() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.modules[0].functions.retain(|f| f.name != "downgrade");
        assert_eq!(found(&[f]), rows(&[("missing_downgrade", "a1b2c3d4e5f6", "module")]));
    }
}

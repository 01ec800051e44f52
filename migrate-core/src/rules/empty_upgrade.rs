//! `empty_upgrade`: an `upgrade` function that records no operation, outside a merge.
//!
//! Why: a migration whose upgrade records nothing applies as a version row and no change:
//! the history says the change is made while the schema never got it. A body that only names
//! `op` (`let _ = op;`, `drop(op)`) or holds only comments records nothing too (see
//! `Function::empty`). Only a merge (a `down_revision` list) may change nothing: it joins
//! lines of the history, which `cargo migrate merge` writes with empty bodies.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{DownRevision, MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let Some((position, upgrade)) = module.function("upgrade") else {
        return;
    };
    let placeholder = module.placeholders.iter().any(|p| p.function == "upgrade");
    if !upgrade.empty || placeholder || matches!(module.down_revision, DownRevision::Many(_)) {
        return;
    }
    report.push(
        file,
        Some(module),
        Locator::Function(position),
        RuleId::EmptyUpgrade,
        format!("`upgrade` of migration `{}` records no operation", module.name),
        "record the change on `op`, such as `op.add_column(\"people\", \"phone\", Type::Text)`; only a merge \
         (`cargo migrate merge`) may change nothing"
            .to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::Placeholder;

    #[test]
    fn an_upgrade_recording_nothing_is_reported_outside_a_merge() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.modules[0].functions[0].empty = true;
        assert_eq!(found(&[f.clone()]), rows(&[("empty_upgrade", "a1b2c3d4e5f6", "fn:0")]));
        // Both empty: the upgrade speaks, a downgrade has nothing to undo.
        f.modules[0].functions[1].empty = true;
        assert_eq!(found(&[f.clone()]), rows(&[("empty_upgrade", "a1b2c3d4e5f6", "fn:0")]));
        // A placeholder speaks instead (`unwritten_template`).
        f.modules[0].placeholders.push(Placeholder { function: "upgrade".into(), name: "todo".into() });
        assert_eq!(found(&[f]), rows(&[("unwritten_template", "a1b2c3d4e5f6", "placeholder:0")]));
    }

    #[test]
    fn a_merge_may_record_nothing() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "c3d4e5f6a1b2", &["a1b2c3d4e5f6"], "add_email_campaigns_table"),
            {
                let mut merge = file(
                    "20241024_0900",
                    "d4e5f6a1b2c3",
                    &["b2c3d4e5f6a1", "c3d4e5f6a1b2"],
                    "merge_campaigns_and_statuses",
                );
                for function in &mut merge.modules[0].functions {
                    function.empty = true;
                }
                merge
            },
        ];
        assert_eq!(found(&files), []);
    }
}

//! `empty_downgrade`: a `downgrade` function that does nothing.
//!
//! "Nothing" is decided from the tokens: a body that never calls a method on `op` nor passes
//! `op` on records nothing, whatever else it holds (`let _ = op;`, `drop(op)`, comments); see
//! `Function::empty`. A placeholder (`todo!`) is reported as such, by `unwritten_template`.
//!
//! Why: an empty downgrade is a silent no-op (the guide's enum example, whose `downgrade`
//! is `pass`): the version table says the change is gone while the schema still has it.
//! Undo the change, or declare it irreversible with the reason. A migration whose upgrade
//! is empty too (a merge of two lines, typically) has nothing to undo and passes.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let Some((position, downgrade)) = module.function("downgrade") else {
        return;
    };
    let upgrade_is_empty = module.function("upgrade").is_some_and(|(_, f)| f.empty);
    let placeholder = module.placeholders.iter().any(|p| p.function == "downgrade");
    if !downgrade.empty || upgrade_is_empty || placeholder {
        return;
    }
    report.push(
        file,
        Some(module),
        Locator::Function(position),
        RuleId::EmptyDowngrade,
        format!("`downgrade` of migration `{}` does nothing", module.name),
        "undo what `upgrade` does, or say why it cannot be undone: `op.irreversible(\"reason\")`".to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::Placeholder;

    #[test]
    fn empty_body() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.modules[0].functions[1].empty = true;
        assert_eq!(found(&[f.clone()]), rows(&[("empty_downgrade", "a1b2c3d4e5f6", "fn:1")]));
        // Nothing done, nothing to undo: the empty upgrade is the problem.
        f.modules[0].functions[0].empty = true;
        assert_eq!(found(&[f.clone()]), rows(&[("empty_upgrade", "a1b2c3d4e5f6", "fn:0")]));
        // A placeholder is reported as such.
        f.modules[0].functions[0].empty = false;
        f.modules[0].placeholders.push(Placeholder { function: "downgrade".into(), name: "todo".into() });
        assert_eq!(found(&[f]), rows(&[("unwritten_template", "a1b2c3d4e5f6", "placeholder:0")]));
    }
}

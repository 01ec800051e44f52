//! `missing_why`: no doc comment on the module saying why the migration exists.
//!
//! Why: the guide asks every migration to document its reason; the code says what changes,
//! only a sentence says why (which feature, which incident). `cargo migrate revision` writes
//! a placeholder that this rule refuses until it is replaced.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{MigrationFile, ModuleSource};

/// The doc line `cargo migrate revision` writes, which must be replaced before the build
/// passes.
pub const WHY_PLACEHOLDER: &str = "TODO: say why this change is needed.";

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let why = module.why();
    let message = if why.is_empty() {
        format!("migration `{}` has no doc comment saying why it exists", module.name)
    } else if why.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("todo")) {
        format!("the doc comment of migration `{}` is a placeholder: `{why}`", module.name)
    } else {
        return;
    };
    report.push(
        file,
        Some(module),
        Locator::Module,
        RuleId::MissingWhy,
        message,
        format!(
            "write above `mod {}` a `///` line with the business reason, such as \
             `/// Marketing needs a score per person to rank leads.`",
            module.name
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn empty_and_placeholder_docs() {
        for doc in [vec![], vec![" ".to_owned()], vec![format!(" {}", super::WHY_PLACEHOLDER)]] {
            let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
            f.modules[0].doc = doc.clone();
            assert_eq!(found(&[f]), rows(&[("missing_why", "a1b2c3d4e5f6", "module")]), "{doc:?}");
        }
    }
}

//! `unwritten_template`: a placeholder of the `revision` template (`todo!(…)`) still in place.
//!
//! Why: `cargo migrate revision` writes `upgrade` and `downgrade` as placeholders so that the
//! file does not build until both are written; a half-filled template would otherwise apply
//! with one side missing (and `todo!` or `unimplemented!` would panic in the middle of a
//! deployment). Each placeholder is reported under itself, in whichever function it sits.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    for (position, placeholder) in module.placeholders.iter().enumerate() {
        let what = match placeholder.function.as_str() {
            "upgrade" => {
                "record the change on `op`, such as `op.add_column(\"people\", \"phone\", Type::Text)`"
            }
            "downgrade" => {
                "undo what `upgrade` does, such as `op.drop_column(\"people\", \"phone\")`, or say why it \
                 cannot be undone: `op.irreversible(\"reason\")`"
            }
            _ => "write the code it stands for",
        };
        report.push(
            file,
            Some(module),
            Locator::Placeholder(position),
            RuleId::UnwrittenTemplate,
            format!(
                "`{}` of migration `{}` is still a placeholder: `{}!`",
                placeholder.function, module.name, placeholder.name
            ),
            format!("{what}, in place of `{}!(…)`", placeholder.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::Placeholder;

    #[test]
    fn each_placeholder_is_reported_under_itself() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        for function in &mut f.modules[0].functions {
            function.empty = true;
        }
        f.modules[0].placeholders = vec![
            Placeholder { function: "upgrade".into(), name: "todo".into() },
            Placeholder { function: "downgrade".into(), name: "todo".into() },
        ];
        assert_eq!(
            found(&[f.clone()]),
            rows(&[
                ("unwritten_template", "a1b2c3d4e5f6", "placeholder:0"),
                ("unwritten_template", "a1b2c3d4e5f6", "placeholder:1"),
            ])
        );
        let diagnostics = check(&[f.clone()], &Config::default());
        assert_eq!(
            diagnostics[1].message,
            "`downgrade` of migration `add_interactions_table` is still a placeholder: `todo!`"
        );
        assert!(diagnostics[1].help.ends_with("in place of `todo!(…)`"), "{}", diagnostics[1].help);

        // Upgrade written, downgrade left: only the downgrade's placeholder remains.
        f.modules[0].functions[0].empty = false;
        f.modules[0].placeholders.remove(0);
        assert_eq!(found(&[f]), rows(&[("unwritten_template", "a1b2c3d4e5f6", "placeholder:0")]));
    }
}

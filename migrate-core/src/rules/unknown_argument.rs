//! `unknown_argument`: an argument `#[migration]` does not know.
//!
//! Why: a misspelt `down_revison` would otherwise be ignored and the migration silently
//! become a base. Every argument is checked against the known ones, with the closest one
//! suggested.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{MigrationFile, ModuleSource};
use crate::text::closest;

/// The arguments of `#[migration(...)]`.
pub const ARGUMENTS: &[&str] =
    &["rev", "down_revision", "branch_labels", "depends_on", "transactional", "squashes", "allow"];

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    for (i, argument) in module.arguments.iter().enumerate() {
        if ARGUMENTS.contains(&argument.as_str()) {
            continue;
        }
        let known = "`#[migration]` takes `rev`, `down_revision`, `branch_labels`, `depends_on`, `transactional` and `allow`";
        let help = match closest(argument, ARGUMENTS.iter().copied()) {
            Some(near) => format!("did you mean `{near}`? {known}"),
            None => known.to_owned(),
        };
        report.push(
            file,
            Some(module),
            Locator::Argument(i),
            RuleId::UnknownArgument,
            format!("unknown argument `{argument}` in `#[migration]`"),
            help,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn a_misspelt_argument_gets_a_suggestion() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.modules[0].arguments = vec!["rev".into(), "down_revison".into()];
        assert_eq!(found(&[f.clone()]), rows(&[("unknown_argument", "a1b2c3d4e5f6", "arg:1")]));
        assert_eq!(
            check(&[f], &Config::default())[0].help,
            "did you mean `down_revision`? `#[migration]` takes `rev`, `down_revision`, `branch_labels`, `depends_on`, `transactional` and `allow`"
        );
    }
}

//! `file_name_mismatch`: the file name's revision or slug differ from the attribute's
//! revision or the module's name.
//!
//! Why: people find migrations by file name and commands find them by id; when the two
//! disagree, `ls migrations/` lies about the history. A file copied to start a new
//! migration, with only one of the two places edited, is the usual cause.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::naming::FileName;
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let Ok(name) = FileName::parse(&file.file_name, module.rev.as_deref()) else {
        return;
    };
    if let Some(rev) = &module.rev
        && *rev != name.rev
    {
        report.push(
            file,
            Some(module),
            Locator::Revision,
            RuleId::FileNameMismatch,
            format!("revision `{rev}` differs from `{}` in the file name `{}`", name.rev, file.file_name),
            format!(
                "make them agree: rename the file `{}`, or write the file's id here",
                FileName::format(&name.timestamp, rev, &name.slug)
            ),
        );
    }
    if module.name != name.slug {
        report.push(
            file,
            Some(module),
            Locator::Module,
            RuleId::FileNameMismatch,
            format!("module name `{}` differs from the slug `{}` of the file name", module.name, name.slug),
            format!(
                "make them agree: rename the module `{}`, or the file `{}`",
                name.slug,
                FileName::format(&name.timestamp, &name.rev, &module.name)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn revision_and_slug_are_compared() {
        let mut rev = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        rev.file_name = "20241021_0900_a1b2c3d4e5f7_add_interactions_table.rs".into();
        assert_eq!(found(&[rev]), rows(&[("file_name_mismatch", "a1b2c3d4e5f6", "rev")]));

        let mut slug = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        slug.modules[0].name = "add_interaction_table".into();
        assert_eq!(found(&[slug]), rows(&[("file_name_mismatch", "a1b2c3d4e5f6", "module")]));
    }
}

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
        let file_name = FileName::format(&name.timestamp, &name.rev, &module.name);
        // A slug no module can be named (a keyword) is never suggested for the module.
        let help = if KEYWORDS.contains(&name.slug.as_str()) {
            format!("rename the file `{file_name}`: `{}` is a keyword, which no module is named", name.slug)
        } else {
            format!("make them agree: rename the module `{}`, or the file `{file_name}`", name.slug)
        };
        report.push(
            file,
            Some(module),
            Locator::Module,
            RuleId::FileNameMismatch,
            format!("module name `{}` differs from the slug `{}` of the file name", module.name, name.slug),
            help,
        );
    }
}

/// Rust's keywords, strict and reserved (2024 edition): no module can be named one without `r#`.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do",
    "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
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

    #[test]
    fn no_help_names_a_module_that_cannot_be_written() {
        // A file manager's copy: `invalid_file_name` names the stray text; no module is
        // asked to be called `add_interactions_table (copy)`.
        let mut copy = file("20241022_0900", "b2c3d4e5f6a1", &[], "add_interactions_table");
        copy.file_name = "20241022_0900_b2c3d4e5f6a1_add_interactions_table (copy).rs".into();
        let diagnostics = check(&[copy], &Config::default());
        assert!(diagnostics.iter().all(|d| d.rule.to_string() != "file_name_mismatch"), "{diagnostics:?}");

        let mut keyword = file("20241022_0900", "b2c3d4e5f6a1", &[], "add_types_table");
        keyword.file_name = "20241022_0900_b2c3d4e5f6a1_type.rs".into();
        let diagnostics = check(&[keyword], &Config::default());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(
            diagnostics[0].help,
            "rename the file `20241022_0900_b2c3d4e5f6a1_add_types_table.rs`: `type` is a keyword, which no module is named"
        );
    }
}

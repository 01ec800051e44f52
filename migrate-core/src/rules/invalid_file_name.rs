//! `invalid_file_name`: a migration file not named `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
//!
//! Why: the guide's naming makes a folder listing read as the product's history, in order;
//! a real date and time keep it chronological. Files with other names are not ignored (sqlx
//! and refinery silently skip them): they are errors.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::naming::{FileName, FileNameProblem};
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let Err(problem) = FileName::parse(&file.file_name, module.rev.as_deref()) else {
        return;
    };
    let help = match &problem {
        // A copy a file manager made: its date and revision are sound, and the name it should
        // have is known. Never suggested: the stray text, which no module name can hold.
        FileNameProblem::Slug { name, .. } => format!(
            "rename the file `{}`, or delete it if it copies another migration",
            FileName::format(&name.timestamp, module.rev.as_deref().unwrap_or(&name.rev), &module.name)
        ),
        _ => format!(
            "rename the file `YYYYMMDD_HHMM_{}_{}.rs`, with the date and time the migration was written",
            module.rev.as_deref().unwrap_or("<rev>"),
            module.name
        ),
    };
    report.push(
        file,
        Some(module),
        Locator::Module,
        RuleId::InvalidFileName,
        format!("migration file name `{}` {problem}", file.file_name),
        help,
    );
}

/// The message for a `#[migration]` module found outside the migrations folder.
pub fn outside_folder(module: &str, file: &str) -> (String, String) {
    (
        format!("migration `{module}` is in `{file}`, outside the migrations folder"),
        "a migration lives in its own file in the migrations folder: `cargo migrate revision -m <slug>` creates one"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn names_without_a_real_date_are_reported_under_the_module() {
        let mut bad = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        bad.file_name = "20241321_0900_a1b2c3d4e5f6_add_interactions_table.rs".into();
        assert_eq!(found(&[bad.clone()]), rows(&[("invalid_file_name", "a1b2c3d4e5f6", "module")]));
        let diagnostic = &check(&[bad], &Config::default())[0];
        assert_eq!(
            diagnostic.message,
            "migration file name `20241321_0900_a1b2c3d4e5f6_add_interactions_table.rs` does not start with a real date `YYYYMMDD`"
        );
    }

    #[test]
    fn a_copy_made_by_a_file_manager_is_named_by_its_module_and_revision() {
        let mut copy = file("20241022_0900", "b2c3d4e5f6a1", &[], "add_interactions_table");
        copy.file_name = "20241022_0900_b2c3d4e5f6a1_add_interactions_table (copy).rs".into();
        // Only this rule: the slug is not compared with the module (no module can be named so).
        assert_eq!(found(&[copy.clone()]), rows(&[("invalid_file_name", "b2c3d4e5f6a1", "module")]));
        let diagnostic = &check(&[copy], &Config::default())[0];
        assert_eq!(
            diagnostic.message,
            "migration file name `20241022_0900_b2c3d4e5f6a1_add_interactions_table (copy).rs` has ` (copy)` after the slug `add_interactions_table`, which no module name holds"
        );
        assert_eq!(
            diagnostic.help,
            "rename the file `20241022_0900_b2c3d4e5f6a1_add_interactions_table.rs`, or delete it if it copies another migration"
        );
    }
}

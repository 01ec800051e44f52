//! `invalid_file_name`: a migration file not named `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
//!
//! Why: the guide's naming makes a folder listing read as the product's history, in order;
//! a real date and time keep it chronological. Files with other names are not ignored (sqlx
//! and refinery silently skip them): they are errors.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::naming::FileName;
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    let Err(problem) = FileName::parse(&file.file_name, module.rev.as_deref()) else {
        return;
    };
    let rev = module.rev.as_deref().unwrap_or("<rev>");
    report.push(
        file,
        Some(module),
        Locator::Module,
        RuleId::InvalidFileName,
        format!("migration file name `{}` {problem}", file.file_name),
        format!(
            "rename the file `YYYYMMDD_HHMM_{rev}_{}.rs`, with the date and time the migration was written",
            module.name
        ),
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
}

//! `item_outside_migration`: anything in a migration file besides its migration module.
//!
//! Why: a proc-macro can only point at the tokens it receives, so everything a migration is
//! (its doc, its import, its functions) lives inside the annotated module; an item outside
//! would be unchecked, and a second migration in one file would break "one file, one
//! migration". Items outside the module are reported by build-support with their line and
//! column; a second `#[migration]` module is reported under its name.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::MigrationFile;

pub(crate) fn check(file: &MigrationFile, report: &mut Report) {
    let Some(first) = file.modules.first() else {
        report.push(
            file,
            None,
            Locator::Attribute,
            RuleId::ItemOutsideMigration,
            format!("migration file `{}` holds no `#[migration]` module", file.display),
            "write the migration as `#[migration(rev = \"…\", down_revision = …)] mod <slug> { … }`, \
             or move the file out of the migrations folder"
                .to_owned(),
        );
        return;
    };
    for (i, item) in file.stray_items.iter().enumerate() {
        report.push(
            file,
            None,
            Locator::Item(i),
            RuleId::ItemOutsideMigration,
            format!(
                "{}:{}:{}: `{}` is outside the migration module `{}`",
                file.display, item.line, item.column, item.description, first.name
            ),
            format!(
                "a migration file holds its `#[migration]` module and nothing else: move `{}` inside `mod {}`, \
                 or out of the migrations folder",
                item.description, first.name
            ),
        );
    }
    for extra in &file.modules[1..] {
        report.push(
            file,
            Some(extra),
            Locator::Module,
            RuleId::ItemOutsideMigration,
            format!("migration file `{}` holds a second migration `{}`", file.display, extra.name),
            format!(
                "one file, one migration: move `mod {}` into its own file with `cargo migrate revision`",
                extra.name
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::StrayItem;

    #[test]
    fn stray_items_and_second_modules() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.stray_items.push(StrayItem { description: "fn helper".into(), line: 12, column: 1 });
        assert_eq!(found(&[f.clone()]), rows(&[("item_outside_migration", "a1b2c3d4e5f6", "item:0")]));
        assert_eq!(
            check(&[f], &Config::default())[0].message,
            "migrations/20241021_0900_a1b2c3d4e5f6_add_interactions_table.rs:12:1: `fn helper` is outside the \
             migration module `add_interactions_table`"
        );

        let mut empty = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        empty.modules.clear();
        assert_eq!(found(&[empty]), rows(&[("item_outside_migration", "", "attribute")]));
    }
}

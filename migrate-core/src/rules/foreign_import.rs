//! `foreign_import`: a migration importing anything but the prelude.
//!
//! Why: a migration must mean tomorrow what it meant when written. Importing the
//! application's models or another crate ties it to code that keeps changing: rename a
//! model field and an old migration silently does something else, or stops compiling years
//! later. Only `migrate_runtime::prelude` (and `super::*`) may be imported, and a path in
//! code, in a type or of a macro may only start with a prelude name, an item of the module
//! itself (`self::…`), or the standard library (`std`, `core`, `alloc`, its prelude and
//! primitive types, its macros): the standard library never breaks a path it published. Any
//! other path is reported under itself: `crate::…`, `super::…`, `serde_json::json!`,
//! `my_app::models::TABLE`, and the macros that read outside the migration (`include!`,
//! `include_bytes!`, `env!`, `option_env!`, `include_str!` of a file not beside it).

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::source::{ImportKind, MigrationFile, ModuleSource};

/// Whether a `use` tree (whitespace removed) is one a migration may write.
pub fn is_allowed_use(text: &str) -> bool {
    let text = text.strip_prefix("::").unwrap_or(text);
    text == "super::*"
        || text.starts_with("migrate_runtime::prelude::")
        || text.starts_with("self::")
        || ["std::", "core::", "alloc::"].iter().any(|root| text.starts_with(root))
}

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    for (i, import) in module.imports.iter().enumerate() {
        let message = match import.kind {
            ImportKind::Use if is_allowed_use(&import.text) => continue,
            ImportKind::Use => format!("migration `{}` imports `{}`", module.name, import.text),
            ImportKind::ExternCrate => {
                format!("migration `{}` declares `{}`", module.name, import.text)
            }
            ImportKind::Path => {
                format!("migration `{}` reaches outside itself through `{}`", module.name, import.text)
            }
        };
        report.push(
            file,
            Some(module),
            Locator::Import(i),
            RuleId::ForeignImport,
            message,
            "a migration must mean tomorrow what it means today: import only `migrate_runtime::prelude::*`, \
             and copy into the migration any name or value it needs from the application"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_allowed_use;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::{Import, ImportKind};

    #[test]
    fn only_the_prelude_and_super() {
        for ok in [
            "migrate_runtime::prelude::*",
            "::migrate_runtime::prelude::*",
            "migrate_runtime::prelude::{Op,Type}",
            "super::*",
            "std::fmt::Write",
            "core::time::Duration",
            "self::helpers::*",
        ] {
            assert!(is_allowed_use(ok), "{ok}");
        }
        for bad in [
            "crate::models::User",
            "migrate_runtime::*",
            "super::helpers",
            "serde_json::json",
            "my_app::models",
        ] {
            assert!(!is_allowed_use(bad), "{bad}");
        }
    }

    #[test]
    fn each_import_is_reported_under_itself() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        f.modules[0].imports = vec![
            Import { text: "migrate_runtime::prelude::*".into(), kind: ImportKind::Use },
            Import { text: "crate::models::User".into(), kind: ImportKind::Use },
            Import { text: "crate::models::TABLE".into(), kind: ImportKind::Path },
        ];
        assert_eq!(
            found(&[f]),
            rows(&[
                ("foreign_import", "a1b2c3d4e5f6", "import:1"),
                ("foreign_import", "a1b2c3d4e5f6", "import:2")
            ])
        );
    }
}

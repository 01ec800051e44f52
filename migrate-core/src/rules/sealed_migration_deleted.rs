//! `sealed_migration_deleted`: a migration the seal holds as deployed is gone from the folder.
//!
//! Why: the databases that applied it record its revision; without it the code no longer
//! describes them, a new database is built without its change, and the runtime refuses every
//! database that recorded it ("newer than the code"). A sealed migration stays in the folder.
//! Reported on the seal file's line, as no migration is left to point at; held back while a
//! file of the folder cannot be read (it may be the migration).

use super::{Analysis, Report, Sealing};
use crate::diagnostic::{Diagnostic, Locator, RuleId};
use crate::seal::Seal;
use crate::source::MigrationFile;

pub(crate) fn check(
    analysis: &Analysis<'_>,
    files: &[&MigrationFile],
    sealing: &Sealing<'_>,
    seal: &Seal,
    report: &mut Report,
) {
    if analysis.unreadable {
        return;
    }
    for sealed in &seal.entries {
        if analysis.has_rev(&sealed.rev) || files.iter().any(|f| f.file_name == sealed.file_name) {
            continue;
        }
        let folder = sealing.display.strip_suffix(crate::seal::FILE_NAME).unwrap_or_default();
        report.diagnostics.push(Diagnostic {
            file: sealing.path.to_owned(),
            module: None,
            locator: Locator::Attribute,
            rule: RuleId::SealedMigrationDeleted,
            message: format!(
                "sealed migration `{}` (`{}`, `{}` line {}) is no longer in the migrations folder",
                sealed.rev, sealed.file_name, sealing.display, sealed.line
            ),
            help: format!(
                "restore it (`git checkout -- {folder}{}`): the databases that applied it record its revision, \
                 and a deployed migration stays in the history",
                sealed.file_name
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, sealed, sealed_found};

    #[test]
    fn a_deleted_sealed_migration_is_reported_on_the_seal() {
        let mut files = vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes_table"),
        ];
        let seal = sealed(&files);
        files.pop();
        let found = sealed_found(&files, &seal, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        let (rule, rev, _, message) = &found[0];
        assert_eq!((rule.as_str(), rev.as_str()), ("sealed_migration_deleted", ""));
        let unsealed = crate::rules::check_sealed_folder(&files, &Default::default(), None);
        assert!(unsealed.diagnostics.is_empty(), "without the seal, nothing is missing");
        assert_eq!(
            message,
            "sealed migration `b2c3d4e5f6a1` (`20241022_0900_b2c3d4e5f6a1_add_notes_table.rs`, `migrations/seal.lock` \
             line 7) is no longer in the migrations folder"
        );
        // Renamed is not deleted: the revision is still there.
        files.push(file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_notes"));
        let rules: Vec<String> = sealed_found(&files, &seal, &[]).into_iter().map(|f| f.0).collect();
        assert!(!rules.contains(&"sealed_migration_deleted".to_owned()), "{rules:?}");
    }
}

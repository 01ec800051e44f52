//! `duplicate_revision`: two migrations declare the same revision id.
//!
//! Why: the version table stores revision ids; two migrations with one id cannot both be
//! recorded, and every `down_revision` naming the id becomes ambiguous. Alembic only warns
//! and silently loses an edge; diesel silently drops one of them. A copied file is the usual
//! cause. The copy is blamed: the file the seal holds when the revision is sealed (see
//! `crate::seal`), else the one that sorts later.

use super::{Analysis, Report, Sealing};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;

pub(crate) fn check(analysis: &Analysis<'_>, sealing: Option<&Sealing<'_>>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::Duplicate { first, again } = *problem else {
            continue;
        };
        let (mut first, mut again) = (&analysis.entries[first], &analysis.entries[again]);
        let sealed = sealing.and_then(|sealing| {
            let entry = sealing.seal.as_ref().ok()?.get(again.rev)?;
            Some(analysis.sealed_entry(sealing, entry)?.index)
        });
        if sealed == Some(again.index) {
            (first, again) = (again, first);
        }
        let owner = if sealed.is_some() { ", which is sealed as deployed" } else { "" };
        report.push(
            again.file,
            Some(again.module),
            Locator::Revision,
            RuleId::DuplicateRevision,
            format!("revision `{}` is already used by `{}`{owner}", again.rev, first.file.display),
            "give this migration a fresh revision id: `cargo migrate revision -m <slug>` generates one, \
             or write 12 new hexadecimal characters here and in the file name"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows, sealed, sealed_found};

    #[test]
    fn the_unsealed_copy_is_reported_even_when_it_sorts_first() {
        let deployed = file("20241023_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_email_campaigns_table");
        let base = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table");
        let seal = sealed(&[base.clone(), deployed.clone()]);
        // The copy, dated earlier, sorts before the deployed file.
        let copy = file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions");
        let files = [base, copy, deployed];
        let found = sealed_found(&files, &seal, &[]);
        let duplicate: Vec<_> = found.iter().filter(|f| f.0 == "duplicate_revision").collect();
        assert_eq!(duplicate.len(), 1, "{found:?}");
        assert_eq!(
            duplicate[0].3,
            "revision `b2c3d4e5f6a1` is already used by \
             `migrations/20241023_0900_b2c3d4e5f6a1_add_email_campaigns_table.rs`, which is sealed as deployed"
        );
        let blamed = crate::rules::check_sealed_folder(&files, &Default::default(), None).diagnostics;
        // Without the seal, the later file is blamed: the deployed one.
        assert!(blamed[0].file.ends_with("add_email_campaigns_table.rs"), "{blamed:?}");
    }

    #[test]
    fn the_later_copy_is_reported() {
        let files = [
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_interactions_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_status_to_interactions"),
            file("20241023_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_email_campaigns_table"),
        ];
        assert_eq!(found(&files), rows(&[("duplicate_revision", "b2c3d4e5f6a1", "rev")]));
        let message = &crate::rules::check(&files, &Default::default())[0].message;
        assert_eq!(
            message,
            "revision `b2c3d4e5f6a1` is already used by \
             `migrations/20241022_0900_b2c3d4e5f6a1_add_status_to_interactions.rs`"
        );
    }
}

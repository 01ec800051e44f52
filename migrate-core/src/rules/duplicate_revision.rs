//! `duplicate_revision`: two migrations declare the same revision id.
//!
//! Why: the version table stores revision ids; two migrations with one id cannot both be
//! recorded, and every `down_revision` naming the id becomes ambiguous. Alembic only warns
//! and silently loses an edge; diesel silently drops one of them. A copied file is the usual
//! cause.

use super::{Analysis, Report};
use crate::diagnostic::{Locator, RuleId};
use crate::graph::Problem;

pub(crate) fn check(analysis: &Analysis<'_>, report: &mut Report) {
    for problem in &analysis.problems {
        let Problem::Duplicate { first, again } = *problem else {
            continue;
        };
        let (first, again) = (&analysis.entries[first], &analysis.entries[again]);
        report.push(
            again.file,
            Some(again.module),
            Locator::Revision,
            RuleId::DuplicateRevision,
            format!("revision `{}` is already used by `{}`", again.rev, first.file.display),
            "give this migration a fresh revision id: `cargo migrate revision -m <slug>` generates one, \
             or write 12 new hexadecimal characters here and in the file name"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, found, rows};

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

//! `unreadable_seal`: the seal file beside the migrations folder cannot be read: a git
//! conflict left in it, a line edited by hand (its first line sums the others), an unknown
//! format.
//!
//! Why: the seal is what stops an edit to a deployed migration; a build that cannot read it
//! must not pass as if nothing were sealed. A conflict in it is the expected sign of two
//! branches that each sealed migrations: the help says how to resolve it.

use super::{Report, Sealing};
use crate::diagnostic::{Diagnostic, Locator, RuleId};
use crate::seal::SealError;

pub(crate) fn check(sealing: &Sealing<'_>, error: &SealError, report: &mut Report) {
    report.diagnostics.push(Diagnostic {
        file: sealing.path.to_owned(),
        module: None,
        locator: Locator::Attribute,
        rule: RuleId::UnreadableSeal,
        message: format!("`{}` line {} {}", sealing.display, error.line, error.message),
        help: error.help.replace("<file>", sealing.display),
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::fixtures::{file, sealed_found_in};
    use crate::seal::Seal;

    #[test]
    fn an_unreadable_seal_is_reported_with_its_line() {
        let files = [file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table")];
        let seal = Seal::parse("seal 1 00\n");
        let found = sealed_found_in(&files, &seal, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "unreadable_seal");
        assert_eq!(
            found[0].3,
            "`migrations/seal.lock` line 1 does not match the lines below it: the file was edited by hand or merged"
        );
    }
}

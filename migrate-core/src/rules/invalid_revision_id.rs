//! `invalid_revision_id`: a revision id not of the configured format.
//!
//! Why: ids are typed in commands (`upgrade 3f2a`), stored in a `varchar(32)` column and
//! parsed by the target grammar (`rev+1`, `rev-1`); hand-made ids like `0002` or `v2-users`
//! break prefixes, the grammar or the column. The format is `hex12` by default, `alembic` for
//! a history adopted from Alembic.

use super::Report;
use crate::config::Config;
use crate::diagnostic::{Locator, RuleId};
use crate::id::IdFormat;
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, config: &Config, report: &mut Report) {
    let Some(rev) = &module.rev else {
        return;
    };
    let Err(problem) = config.id_format.check(rev) else {
        return;
    };
    let help = match config.id_format {
        IdFormat::Hex12 => {
            "use a generated id (`cargo migrate revision -m <slug>` makes one), or set `id_format = \"alembic\"` \
             under [package.metadata.migrate] for a history adopted from Alembic"
        }
        IdFormat::Alembic => {
            "an id has 1 to 32 characters, no whitespace, none of `@ - + :`, and is not `head`, `heads`, `base` or `current`"
        }
    };
    report.push(
        file,
        Some(module),
        Locator::Revision,
        RuleId::InvalidRevisionId,
        format!("revision id `{rev}` {problem}"),
        help.to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::id::IdFormat;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn format_is_checked_and_configurable() {
        let files = [file("20241021_0900", "0001_init", &[], "add_interactions_table")];
        assert_eq!(found(&files), rows(&[("invalid_revision_id", "0001_init", "rev")]));
        assert_eq!(
            check(&files, &Config::default())[0].message,
            "revision id `0001_init` is not 12 lowercase hexadecimal characters"
        );
        let alembic = Config { id_format: IdFormat::Alembic, ..Config::default() };
        assert_eq!(check(&files, &alembic), []);
    }
}

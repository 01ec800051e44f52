//! `vague_slug`: a slug that does not name the change.
//!
//! Why: the guide's first rule is "one migration = one clear business or structural change,
//! named for it". `update_db`, `fix_stuff` or `migration_v2` tell a reader nothing in a year;
//! `add_lead_scores_table` tells the story. A slug is snake_case, has two words or more, and
//! at least one of them is not vague. The word lists are configurable.

use super::Report;
use crate::config::Config;
use crate::diagnostic::{Locator, RuleId};
use crate::naming::{SlugProblem, check_slug};
use crate::source::{MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, config: &Config, report: &mut Report) {
    let Err(problem) = check_slug(&module.name, &config.words) else {
        return;
    };
    let help = match problem {
        SlugProblem::NotSnakeCase => {
            "write lowercase words joined by underscores, such as `add_lead_scores_table`"
        }
        SlugProblem::OneWord => "name the change in two words or more, such as `add_lead_scores_table`",
        SlugProblem::Vague => {
            "name the business change, such as `add_lead_scores_table` or `add_status_to_interactions`; \
             the vague words are listed in the README and configurable under [package.metadata.migrate]"
        }
    };
    report.push(
        file,
        Some(module),
        Locator::Module,
        RuleId::VagueSlug,
        format!("slug `{}` {problem}", module.name),
        help.to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};

    #[test]
    fn the_guides_bad_names() {
        for slug in ["update_db", "fix_stuff", "migration_v2"] {
            let files = [file("20241021_0900", "a1b2c3d4e5f6", &[], slug)];
            assert_eq!(found(&files), rows(&[("vague_slug", "a1b2c3d4e5f6", "module")]), "{slug}");
        }
        let files = [file("20241021_0900", "a1b2c3d4e5f6", &[], "update_db")];
        assert_eq!(
            check(&files, &Config::default())[0].message,
            "slug `update_db` is vague: none of its words names what changes"
        );
    }
}

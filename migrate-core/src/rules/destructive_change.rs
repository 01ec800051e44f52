//! `destructive_change`: a drop or a rename of something that existed before the migration:
//! `DROP TABLE`, `DROP COLUMN`, renaming a table or a column, `DROP SCHEMA`, `DROP DATABASE`,
//! `TRUNCATE … CASCADE`. Code already deployed still reads the old names and the dropped data,
//! so these are the contract step of an expand/contract change, made on purpose: the migration
//! states it with `allow(destructive_change = "why")`.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    let help = "make it the last step of an expand/contract change, once no deployed code uses what it removes, and \
                say so: `allow(destructive_change = \"why it is safe now\")` in `#[migration(…)]`";
    let (what, consequence) = match &fact.action {
        Action::DropTable { tables } => {
            let table = tables.iter().find(|t| cx.existing(t))?;
            (format!("drops the table `{table}` and its rows"), "code that reads it fails")
        }
        Action::DropColumn { table, column } if cx.existing(table) && !added_here(cx, table, column) => (
            format!("drops the column `{table}.{column}` and its values"),
            "code that reads or writes it fails",
        ),
        Action::RenameTable { from, to } if cx.existing(from) => {
            (format!("renames the table `{from}` to `{to}`"), "code that uses the old name fails")
        }
        Action::RenameColumn { table, from, to } if cx.existing(table) && !added_here(cx, table, from) => {
            (format!("renames the column `{table}.{from}` to `{to}`"), "code that uses the old name fails")
        }
        Action::DropSchema => ("drops a schema and everything in it".to_owned(), "code that uses it fails"),
        Action::DropDatabase => ("drops a database".to_owned(), "everything in it is gone"),
        Action::Truncate { cascade: true } => (
            "empties the tables named and, through CASCADE, every table that references them".to_owned(),
            "their rows are gone",
        ),
        Action::Truncate { cascade: false } => ("empties the tables named".to_owned(), "their rows are gone"),
        Action::SetSchema { table } if cx.existing(table) => {
            (format!("moves the table `{table}` to another schema"), "code that uses its name fails")
        }
        _ => return None,
    };
    Some(Finding {
        message: format!("`{}` {what}: {consequence} the moment it commits", fact.short()),
        help: help.to_owned(),
    })
}

fn added_here(cx: &Context<'_>, table: &str, column: &str) -> bool {
    cx.earlier.iter().any(
        |f| matches!(&f.action, crate::lint::Action::AddColumn(c) if c.table == table && c.column == column),
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn drops_and_renames_of_existing_things_are_reported() {
        let found = findings(&[
            "CREATE TABLE people (id bigint, body text, old text); CREATE TABLE tags (id bigint)",
            "ALTER TABLE people RENAME COLUMN body TO description",
            "ALTER TABLE people DROP COLUMN old",
            "DROP TABLE tags",
            "ALTER TABLE people RENAME TO persons",
            "TRUNCATE persons CASCADE",
            "DROP SCHEMA archive CASCADE",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["destructive_change"; 6], "{found:?}");
        assert!(found[0].1.contains("renames the column `people.body` to `description`"), "{}", found[0].1);
    }

    #[test]
    fn emptying_and_moving_a_table_are_reported() {
        let found = findings(&[
            "CREATE TABLE people (id bigint)",
            "TRUNCATE people",
            "ALTER TABLE people SET SCHEMA archive",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["destructive_change"; 2], "{found:?}");
    }

    #[test]
    fn what_the_migration_made_itself_may_go() {
        assert_eq!(
            findings(&[
                "CREATE TABLE scratch (id bigint); ALTER TABLE scratch RENAME COLUMN id TO key; DROP TABLE scratch"
            ]),
            []
        );
    }
}

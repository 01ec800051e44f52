//! `blocking_index`: an index built or dropped without `CONCURRENTLY` on a table that existed
//! before the migration. `CREATE INDEX` holds a SHARE lock for the whole build (writes wait);
//! `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table (everything waits). An
//! index on a table created in the same migration, or dropped with its table, is exempt.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    match &fact.action {
        Action::CreateIndex { table, concurrently: false, .. } if cx.existing(table) => Some(Finding {
            message: format!(
                "`{}` takes a SHARE lock on `{table}` for the whole build: writes to `{table}` wait until it ends",
                fact.short()
            ),
            help: "build it with `.concurrently()` (`CREATE INDEX CONCURRENTLY`), which lets reads and writes go on; \
                   the migration then runs outside a transaction, so keep the index in a migration of its own"
                .to_owned(),
        }),
        Action::Reindex { concurrently: false } => Some(Finding {
            message: format!(
                "`{}` locks out writes to the table and, while each index is rebuilt, the reads that would use it",
                fact.short()
            ),
            help: "rebuild with `REINDEX … CONCURRENTLY` (PostgreSQL 12 and later), in a migration of its own".to_owned(),
        }),
        Action::DropIndex { names, concurrently: false }
            if names.iter().any(|n| cx.schema.indexes.get(n).is_none_or(|t| cx.existing(t))) =>
        {
            let table = names
                .iter()
                .find_map(|n| cx.schema.indexes.get(n))
                .map_or_else(|| "the index's table".to_owned(), |t| format!("`{t}`"));
            Some(Finding {
                message: format!(
                    "`{}` takes an ACCESS EXCLUSIVE lock on {table}: reads and writes wait until it ends",
                    fact.short()
                ),
                help: "drop it with `.concurrently()` (`DROP INDEX CONCURRENTLY`), in a migration of its own; an index \
                       that backs a constraint goes with `drop_constraint` instead"
                    .to_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn an_index_on_an_existing_table_must_be_concurrent() {
        let found = findings(&[
            "CREATE TABLE people (id bigint, email text)",
            "CREATE INDEX people_email ON people (email)",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "blocking_index");
        assert!(found[0].1.contains("SHARE lock on `people`"), "{}", found[0].1);
    }

    #[test]
    fn concurrent_builds_and_new_tables_pass() {
        let found = findings(&[
            "CREATE TABLE people (id bigint, email text); CREATE INDEX people_id ON people (id)",
            "CREATE INDEX CONCURRENTLY people_email ON people (email)",
            "DROP INDEX CONCURRENTLY people_email",
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn a_sealed_migration_is_deployed_and_not_judged() {
        use crate::rules::fixtures::{file, sealed, sealed_found};
        use crate::source::{Literal, Recorded};
        let mut files = vec![
            file("20241021_0900", "a1b2c3d4e5f6", &[], "add_people_table"),
            file("20241022_0900", "b2c3d4e5f6a1", &["a1b2c3d4e5f6"], "add_people_email_index"),
            file("20241023_0900", "c3d4e5f6a1b2", &["b2c3d4e5f6a1"], "add_people_name_index"),
        ];
        for (file, sql) in files.iter_mut().zip([
            "CREATE TABLE people (email text, name text)",
            "CREATE INDEX people_email ON people (email)",
            "CREATE INDEX people_name ON people (name)",
        ]) {
            file.modules[0].literals = vec![Literal { value: sql.to_owned(), ..Literal::default() }];
            file.modules[0].recorded = vec![Recorded::Sql { literal: 0 }];
        }
        let seal = sealed(&files[..2]);
        let found: Vec<(String, String)> =
            sealed_found(&files, &seal, &[]).into_iter().map(|(rule, rev, _, _)| (rule, rev)).collect();
        assert_eq!(found, [("blocking_index".to_owned(), "c3d4e5f6a1b2".to_owned())]);
    }

    #[test]
    fn names_that_may_mean_an_existing_table_or_index_are_judged_as_existing() {
        let found = findings(&[
            "CREATE TABLE people (id bigint, email text); CREATE INDEX people_email ON people (email)",
            "CREATE TABLE IF NOT EXISTS people (id bigint); CREATE INDEX people_id ON people (id)",
            "CREATE TEMP TABLE people (id bigint); CREATE INDEX people_id2 ON public.people (id)",
            "CREATE TABLE t2 (email text); CREATE INDEX IF NOT EXISTS people_email ON t2 (email); DROP INDEX people_email",
            "REINDEX TABLE people",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["blocking_index"; 4], "{found:?}");
        // A relation the migration makes itself holds no rows.
        assert_eq!(
            findings(&["CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id; CREATE INDEX mv_id ON mv (id)"]),
            []
        );
    }

    #[test]
    fn a_drop_names_the_indexed_table() {
        let found = findings(&[
            "CREATE TABLE people (id bigint); CREATE INDEX people_id ON people (id)",
            "DROP INDEX people_id",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("ACCESS EXCLUSIVE lock on `people`"), "{}", found[0].1);
    }
}

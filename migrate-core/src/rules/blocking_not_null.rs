//! `blocking_not_null`: `SET NOT NULL` on a column of an existing table, which holds an ACCESS
//! EXCLUSIVE lock while PostgreSQL scans every row for NULLs (from PostgreSQL 12 the scan is
//! skipped when a validated `CHECK (col IS NOT NULL)` already proves it); and a NOT NULL column
//! without a default added to an existing table, which fails as soon as the table holds a row.
//! On PostgreSQL 18 a NOT NULL constraint may be added `NOT VALID` and validated later, which
//! proves the column too; before 18 that form is refused.

use crate::lint::{Action, ConstraintKind, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    match &fact.action {
        Action::SetNotNull { table, column } if cx.existing(table) => {
            let proven = cx.schema.proven_not_null(table, column);
            if proven && cx.version >= 12 {
                return None;
            }
            let help = if cx.version >= 18 {
                format!(
                    "use `op.alter_column(\"{table}\", \"{column}\").set_not_null_through_check()`, or, on PostgreSQL \
                     18, add the constraint `NOT NULL {column} NOT VALID` and validate it in a later migration, \
                     which checks the rows without blocking"
                )
            } else if cx.version >= 12 {
                format!(
                    "use `op.alter_column(\"{table}\", \"{column}\").set_not_null_through_check()`, which proves it \
                     first with a CHECK added NOT VALID and validated without blocking, so SET NOT NULL skips the scan"
                )
            } else {
                format!(
                    "PostgreSQL {} scans even when a CHECK proves the column (12 and later do not): run it when \
                     the table is quiet and state `allow(blocking_not_null = \"why\")`, or raise `postgres_version`",
                    cx.version
                )
            };
            Some(Finding {
                message: format!(
                    "`{}` takes an ACCESS EXCLUSIVE lock on `{table}` and scans every row for NULLs: reads and writes \
                     wait until it ends",
                    fact.short()
                ),
                help,
            })
        }
        Action::AddConstraint { table, kind: ConstraintKind::NotNull, not_valid, proves_not_null, .. }
            if cx.existing(table) =>
        {
            let column = proves_not_null.as_deref().unwrap_or("the column");
            if *not_valid {
                return (cx.version < 18).then(|| Finding {
                    message: format!(
                        "`{}` needs PostgreSQL 18 (`postgres_version = {}`): before it, a NOT NULL constraint cannot \
                         be NOT VALID",
                        fact.short(),
                        cx.version
                    ),
                    help: format!("use `op.alter_column(\"{table}\", \"{column}\").set_not_null_through_check()`"),
                });
            }
            Some(Finding {
                message: format!(
                    "`{}` takes an ACCESS EXCLUSIVE lock on `{table}` and scans every row for NULLs: reads and writes \
                     wait until it ends",
                    fact.short()
                ),
                help: "add it `NOT VALID` (PostgreSQL 18) and validate it in a later migration, or use \
                       `set_not_null_through_check()`"
                    .to_owned(),
            })
        }
        Action::AddColumn(new)
            if new.not_null
                && new.default.as_deref().is_none_or(|d| d.eq_ignore_ascii_case("null"))
                && !new.identity
                && !new.stored
                && cx.existing(&new.table) =>
        {
            Some(Finding {
                message: format!(
                    "`{}` adds `{}` NOT NULL without a default: it fails as soon as `{}` holds a row, and code already \
                     deployed cannot insert without it",
                    fact.short(),
                    new.column,
                    new.table
                ),
                help: "add it nullable (or with a constant default), fill it with `op.backfill(…)`, then make it NOT \
                       NULL with `set_not_null_through_check()`"
                    .to_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::{findings, findings_with};

    #[test]
    fn set_not_null_on_an_existing_table_is_reported() {
        let found = findings(&[
            "CREATE TABLE people (email text)",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "blocking_not_null");
        assert!(found[0].1.contains("scans every row"), "{}", found[0].1);
    }

    #[test]
    fn a_validated_check_proves_it_from_12() {
        let migrations = [
            "CREATE TABLE people (email text)",
            "ALTER TABLE people ADD CONSTRAINT people_email_nn CHECK (email IS NOT NULL) NOT VALID",
            "ALTER TABLE people VALIDATE CONSTRAINT people_email_nn",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
        ];
        assert_eq!(findings(&migrations), []);
        let on_11 = findings_with(&migrations, true, 11);
        assert_eq!(on_11.len(), 1, "{on_11:?}");
        assert!(on_11[0].1.contains("scans every row"));
    }

    #[test]
    fn a_check_not_yet_validated_proves_nothing() {
        let found = findings(&[
            "CREATE TABLE people (email text)",
            "ALTER TABLE people ADD CONSTRAINT people_email_nn CHECK (email IS NOT NULL) NOT VALID",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_not_null_constraint_not_valid_is_the_way_from_18() {
        let migrations = [
            "CREATE TABLE people (email text)",
            "ALTER TABLE people ADD CONSTRAINT people_email_nn NOT NULL email NOT VALID",
            "ALTER TABLE people VALIDATE CONSTRAINT people_email_nn",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
        ];
        assert_eq!(findings_with(&migrations, true, 18), []);
        let on_15 = findings_with(&migrations, true, 15);
        assert_eq!(on_15.len(), 1, "{on_15:?}");
        assert!(on_15[0].1.contains("needs PostgreSQL 18"), "{}", on_15[0].1);
        let direct = findings_with(
            &["CREATE TABLE people (email text)", "ALTER TABLE people ADD CONSTRAINT nn NOT NULL email"],
            true,
            18,
        );
        assert_eq!(direct.len(), 1, "{direct:?}");
        assert!(direct[0].1.contains("scans every row"), "{}", direct[0].1);
    }

    #[test]
    fn a_proof_goes_with_its_constraint() {
        let found = findings(&[
            "CREATE TABLE people (email text)",
            "ALTER TABLE people ADD CONSTRAINT c1 CHECK (email IS NOT NULL)",
            "ALTER TABLE people DROP CONSTRAINT c1",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
            "ALTER TABLE people ADD COLUMN n int NOT NULL DEFAULT NULL",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        // The CHECK added without NOT VALID is reported too.
        assert_eq!(
            rules,
            ["constraint_without_not_valid", "blocking_not_null", "blocking_not_null"],
            "{found:?}"
        );
    }

    #[test]
    fn a_not_null_column_without_default_fails_on_rows() {
        let found = findings(&[
            "CREATE TABLE people (id bigint)",
            "ALTER TABLE people ADD COLUMN email text NOT NULL",
            "ALTER TABLE people ADD COLUMN status text NOT NULL DEFAULT 'new'",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("adds `email` NOT NULL without a default"), "{}", found[0].1);
    }
}

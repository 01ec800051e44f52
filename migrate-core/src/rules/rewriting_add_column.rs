//! `rewriting_add_column`: a column added to an existing table in a form that makes
//! PostgreSQL write every row under an ACCESS EXCLUSIVE lock: a default that may differ from row
//! to row (`random()`, `gen_random_uuid()`, `clock_timestamp()`, a sequence), `serial`, an
//! identity, a stored generated column, or, before PostgreSQL 11, any default. A constant or
//! `now()` default is kept in the catalog from PostgreSQL 11 and passes.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    let Action::AddColumn(new) = &fact.action else {
        return None;
    };
    if !cx.existing(&new.table) {
        return None;
    }
    let constant_default = new.default.as_deref().is_some_and(|d| !d.eq_ignore_ascii_case("null"));
    let why = if matches!(new.ty.as_str(), "serial" | "bigserial" | "smallserial") {
        format!("`{}` fills every row from a sequence", new.ty)
    } else if new.identity {
        "an identity fills every row from a sequence".to_owned()
    } else if new.stored {
        "a stored generated column is computed into every row".to_owned()
    } else if new.volatile_default {
        format!(
            "its default `{}` may differ from row to row, so it is written into every row",
            new.default.as_deref().unwrap_or("")
        )
    } else if constant_default && cx.version < 11 {
        format!(
            "before PostgreSQL 11 every default is written into every row (`postgres_version = {}`)",
            cx.version
        )
    } else {
        return None;
    };
    Some(Finding {
        message: format!(
            "`{}` rewrites `{}` under an ACCESS EXCLUSIVE lock to add `{}`: {why}; reads and writes wait until it ends",
            fact.short(),
            new.table,
            new.column
        ),
        help: "add the column without a default, set the default for new rows with `alter_column(…).set_default(…)`, \
               then fill the existing rows with `op.backfill(…)` in a migration of its own"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::{findings, findings_with};

    #[test]
    fn rewriting_forms_are_reported() {
        let found = findings(&[
            "CREATE TABLE t (id bigint)",
            "ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()",
            "ALTER TABLE t ADD COLUMN b bigserial",
            "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY",
            "ALTER TABLE t ADD COLUMN d bigint GENERATED ALWAYS AS (id * 2) STORED",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["rewriting_add_column"; 4], "{found:?}");
        assert!(found[0].1.contains("`gen_random_uuid()` may differ from row to row"), "{}", found[0].1);
    }

    #[test]
    fn constant_defaults_pass_from_11_only() {
        let migrations = [
            "CREATE TABLE t (id bigint)",
            "ALTER TABLE t ADD COLUMN status text DEFAULT 'new', ADD COLUMN at timestamptz DEFAULT now()",
        ];
        assert_eq!(findings(&migrations), []);
        let on_10 = findings_with(&migrations, true, 10);
        assert_eq!(on_10.len(), 2, "{on_10:?}");
    }

    #[test]
    fn a_new_table_may_have_anything() {
        assert_eq!(
            findings(&[
                "CREATE TABLE t (id bigint); ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()"
            ]),
            []
        );
    }
}

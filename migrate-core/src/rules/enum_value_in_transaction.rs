//! `enum_value_in_transaction`: `ALTER TYPE … ADD VALUE` in a migration that runs in a
//! transaction when the target is older than PostgreSQL 12 (refused there), or a new value used
//! later in the same transaction (PostgreSQL refuses it until the value commits: 55P04). A
//! value of a type created in the same migration may be used at once.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    if !cx.transactional {
        return None;
    }
    if let Action::AddEnumValue { name, .. } = &fact.action
        && cx.version < 12
        && !created_here(cx, name)
    {
        return Some(Finding {
            message: format!(
                "`{}` cannot run inside a transaction block before PostgreSQL 12 (`postgres_version = {}`)",
                fact.short(),
                cx.version
            ),
            help: "remove `transactional = true`: a migration that adds an enum value runs outside a transaction by \
                   itself"
                .to_owned(),
        });
    }
    let used = cx.earlier.iter().find_map(|f| match &f.action {
        Action::AddEnumValue { name, value }
            if !value.is_empty() && !created_here(cx, name) && fact.text.contains(value.as_str()) =>
        {
            Some((name, value))
        }
        _ => None,
    })?;
    Some(Finding {
        message: format!(
            "`{}` uses the value {} that this transaction added to `{}`: PostgreSQL refuses a new enum value until it \
             commits",
            fact.short(),
            used.1,
            used.0
        ),
        help: "add the value in a migration of its own, before the one that uses it".to_owned(),
    })
}

fn created_here(cx: &Context<'_>, name: &str) -> bool {
    cx.earlier.iter().any(|f| matches!(&f.action, Action::CreateEnum { name: n } if n == name))
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::{findings, findings_with};

    #[test]
    fn a_new_value_used_in_its_transaction_is_reported() {
        let found = findings(&[
            "CREATE TYPE status AS ENUM ('new'); CREATE TABLE t (s status)",
            "ALTER TYPE status ADD VALUE 'done'; UPDATE t SET s = 'done'",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "enum_value_in_transaction");
        assert!(found[0].1.contains("uses the value 'done'"), "{}", found[0].1);
    }

    #[test]
    fn before_12_adding_in_a_transaction_is_refused() {
        let migrations = ["CREATE TYPE status AS ENUM ('new')", "ALTER TYPE status ADD VALUE 'done'"];
        assert_eq!(findings(&migrations), []);
        assert_eq!(findings_with(&migrations, true, 11).len(), 1);
        assert_eq!(findings_with(&migrations, false, 11), []);
    }

    #[test]
    fn a_type_created_in_the_same_migration_may_be_used() {
        assert_eq!(
            findings(&[
                "CREATE TYPE status AS ENUM ('new'); ALTER TYPE status ADD VALUE 'done'; SELECT 'done'::status"
            ]),
            []
        );
    }
}

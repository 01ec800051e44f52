//! `transaction_not_allowed`: a statement PostgreSQL refuses inside a transaction block
//! (`CREATE INDEX CONCURRENTLY`, `VACUUM`, a `DO` block that commits, …) in a migration marked
//! `transactional = true`, which would fail at deploy with "cannot run inside a transaction
//! block". Without the mark the migration runs outside a transaction by itself. An enum value
//! is left to `enum_value_in_transaction`, since PostgreSQL 12 accepts it there.

use crate::lint::Finding;
use crate::sql::{ENUM_VALUE, no_transaction_reason, split_statements};

/// The findings for one text of SQL (one statement or several) of a migration marked
/// `transactional = true`.
pub(crate) fn check(sql: &str) -> Vec<Finding> {
    split_statements(sql)
        .into_iter()
        .filter_map(|statement| {
            let reason = no_transaction_reason(statement).filter(|reason| *reason != ENUM_VALUE)?;
            let short = crate::text::shorten(statement, 80);
            Some(Finding {
                message: format!(
                    "`{short}` cannot run in the transaction `transactional = true` asks for: {reason}"
                ),
                help: "remove `transactional = true`: a migration holding such a statement runs outside a \
                       transaction by itself, statement by statement"
                    .to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn statements_refused_in_a_transaction_are_reported() {
        let found = check("CREATE TABLE t (id int); CREATE INDEX CONCURRENTLY t_id ON t (id); VACUUM t");
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("`CREATE INDEX CONCURRENTLY t_id ON t (id)` cannot run"),
            "{messages:?}"
        );
        assert!(messages[1].starts_with("`VACUUM t` cannot run"), "{messages:?}");
    }

    #[test]
    fn enum_values_and_plain_statements_pass() {
        assert_eq!(check("ALTER TYPE kind ADD VALUE 'partner'; CREATE INDEX t_id ON t (id)"), []);
    }
}

//! `blocking_unique`: a unique constraint or primary key added to an existing table directly
//! (also inline, on a new column), which builds its index while holding an ACCESS EXCLUSIVE
//! lock; and an exclusion constraint on an existing table, which has no online form.

use crate::lint::{Action, ConstraintKind, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    let Action::AddConstraint { table, kind, using_index: false, .. } = &fact.action else {
        return None;
    };
    if !cx.existing(table) {
        return None;
    }
    match kind {
        ConstraintKind::Unique | ConstraintKind::PrimaryKey => {
            let (what, call) = if *kind == ConstraintKind::Unique {
                ("a unique constraint", "create_unique_constraint")
            } else {
                ("a primary key", "create_primary_key")
            };
            Some(Finding {
                message: format!(
                    "`{}` builds the index of {what} under an ACCESS EXCLUSIVE lock on `{table}`: reads and writes \
                     wait until it ends",
                    fact.short()
                ),
                help: format!(
                    "use `op.{call}(…).concurrently()`, which builds the index with CREATE UNIQUE INDEX CONCURRENTLY \
                     and then adds the constraint USING INDEX, in a migration of its own"
                ),
            })
        }
        ConstraintKind::Exclude => Some(Finding {
            message: format!(
                "`{}` builds and checks an exclusion constraint under an ACCESS EXCLUSIVE lock on `{table}`: reads \
                 and writes wait until it ends, and PostgreSQL has no online form of it",
                fact.short()
            ),
            help: "create a new table with the constraint and copy the rows into it, or, for a small table, state \
                   `allow(blocking_unique = \"why\")`"
                .to_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn direct_unique_and_primary_keys_are_reported() {
        let found = findings(&[
            "CREATE TABLE t (id bigint, email text)",
            "ALTER TABLE t ADD CONSTRAINT t_email UNIQUE (email)",
            "ALTER TABLE t ADD PRIMARY KEY (id)",
            "ALTER TABLE t ADD COLUMN code text UNIQUE",
            "ALTER TABLE t ADD CONSTRAINT t_no_overlap EXCLUDE USING gist (id WITH =)",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["blocking_unique"; 4], "{found:?}");
        assert!(found[1].1.contains("a primary key"), "{}", found[1].1);
        assert!(found[3].1.contains("no online form"), "{}", found[3].1);
    }

    #[test]
    fn using_an_index_built_concurrently_passes() {
        let found = findings_non_tx();
        assert_eq!(found, []);
    }

    fn findings_non_tx() -> Vec<(String, String)> {
        crate::rules::lint_tests::findings_with(
            &[
                "CREATE TABLE t (email text)",
                "CREATE UNIQUE INDEX CONCURRENTLY t_email ON t (email); ALTER TABLE t ADD CONSTRAINT t_email UNIQUE USING INDEX t_email",
            ],
            false,
            15,
        )
    }
}

//! `constraint_without_not_valid`: a foreign key or CHECK added to an existing table without
//! `NOT VALID` (PostgreSQL scans the whole table to check it while holding its lock), or
//! validated in the same transaction that added it `NOT VALID` (the scan then runs while the
//! add's lock is still held, which defeats `NOT VALID`).

use crate::lint::{Action, ConstraintKind, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    match &fact.action {
        Action::AddConstraint { table, kind: ConstraintKind::ForeignKey, not_valid: false, .. } if cx.existing(table) => {
            Some(Finding {
                message: format!(
                    "`{}` takes a SHARE ROW EXCLUSIVE lock on `{table}` and on the table it references, and scans \
                     `{table}` to check every row: writes to both wait until it ends",
                    fact.short()
                ),
                help: "add it with `.not_valid()` (`NOT VALID`: only new rows are checked), then check the existing \
                       rows in a later migration with `op.validate_constraint(…)`, which lets writes go on"
                    .to_owned(),
            })
        }
        Action::AddConstraint { table, kind: ConstraintKind::Check, not_valid: false, .. } if cx.existing(table) => {
            Some(Finding {
                message: format!(
                    "`{}` takes an ACCESS EXCLUSIVE lock on `{table}` and scans it to check every row: reads and \
                     writes wait until it ends",
                    fact.short()
                ),
                help: "add it with `.not_valid()` (`NOT VALID`: only new rows are checked), then check the existing \
                       rows in a later migration with `op.validate_constraint(…)`, which lets reads and writes go on"
                    .to_owned(),
            })
        }
        Action::ValidateConstraint { table, name } if cx.transactional => {
            let added_here = cx.earlier.iter().any(|f| {
                matches!(&f.action, Action::AddConstraint { table: t, name: Some(n), not_valid: true, .. }
                    if t == table && n == name)
            });
            added_here.then(|| Finding {
                message: format!(
                    "`{}` checks the rows in the transaction that added `{name}`: the scan runs while the add's lock \
                     on `{table}` is still held",
                    fact.short()
                ),
                help: "validate it in a later migration: `NOT VALID` only helps when the check runs in a transaction \
                       of its own"
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
    fn a_foreign_key_on_an_existing_table_needs_not_valid() {
        let found = findings(&[
            "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE notes (user_id bigint)",
            "ALTER TABLE notes ADD CONSTRAINT notes_user FOREIGN KEY (user_id) REFERENCES users (id)",
            "ALTER TABLE notes ADD COLUMN author_id bigint REFERENCES users (id)",
            "ALTER TABLE notes ADD CONSTRAINT notes_user_set CHECK (user_id > 0)",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["constraint_without_not_valid"; 3], "{found:?}");
        assert!(found[0].1.contains("SHARE ROW EXCLUSIVE lock on `notes`"), "{}", found[0].1);
        assert!(found[2].1.contains("ACCESS EXCLUSIVE lock on `notes`"), "{}", found[2].1);
    }

    #[test]
    fn a_new_column_s_own_check_scans_the_rows() {
        let found = findings(&[
            "CREATE TABLE notes (id bigint)",
            "ALTER TABLE notes ADD COLUMN n int DEFAULT 1 CHECK (n > 0)",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "constraint_without_not_valid");
    }

    #[test]
    fn not_valid_then_a_later_validation_passes() {
        let found = findings(&[
            "CREATE TABLE users (id bigint PRIMARY KEY); CREATE TABLE notes (user_id bigint REFERENCES users (id))",
            "ALTER TABLE notes ADD CONSTRAINT notes_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
            "ALTER TABLE notes VALIDATE CONSTRAINT notes_user",
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn validating_in_the_same_transaction_is_reported() {
        let migrations = [
            "CREATE TABLE notes (user_id bigint)",
            "ALTER TABLE notes ADD CONSTRAINT notes_positive CHECK (user_id > 0) NOT VALID; \
             ALTER TABLE notes VALIDATE CONSTRAINT notes_positive",
        ];
        let found = findings(&migrations);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("in the transaction that added `notes_positive`"), "{}", found[0].1);
        // Outside a transaction each statement commits on its own: the lock is gone.
        assert_eq!(findings_with(&migrations, false, 15), []);
    }
}

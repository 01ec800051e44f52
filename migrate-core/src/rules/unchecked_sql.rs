//! `unchecked_sql`: SQL the lock rules cannot read, which would otherwise pass unchecked: a
//! statement the PostgreSQL parser refuses (it would fail at deploy too), SQL built at run time
//! (`op.execute(&format!(…))`), `op` used where the reader cannot follow it (passed to a helper,
//! in a loop), and a `DO` block written by hand (its PL/pgSQL is not read). A migration that
//! knows why such SQL is safe says so: `allow(unchecked_sql = "why")`.

use crate::lint::Unreadable;

/// A use of `op` the reader cannot follow.
pub(crate) fn unreadable_call(call: &str, why: &str) -> (String, String) {
    (
        format!("the lock rules cannot check `{call}`: {why}"),
        "write the operation on `op` with literal arguments (constants of the module count), or say why its SQL is \
         safe: `allow(unchecked_sql = \"why\")`"
            .to_owned(),
    )
}

/// SQL the parser refuses.
pub(crate) fn unparsed(error: &Unreadable, file: Option<&str>) -> (String, String) {
    let place = match file {
        Some(file) => format!("`{file}` line {}", error.line),
        None => format!("line {} of the SQL", error.line),
    };
    (
        format!(
            "PostgreSQL's grammar does not read this SQL ({place}: {}), so the lock rules cannot check it",
            error.message
        ),
        "fix the SQL (PostgreSQL would refuse it too), or, if the parser is wrong, say why the SQL is safe: \
         `allow(unchecked_sql = \"why\")`"
            .to_owned(),
    )
}

/// A statement after which the rules' reading of names or transactions cannot be trusted.
pub(crate) fn opaque(statement: &str, what: &str) -> (String, String) {
    (
        format!("`{statement}`: {what}, so the lock rules cannot check what follows it"),
        "leave it out (the runner owns transactions and settings; qualify names instead of setting search_path), \
         or say why it is safe: `allow(unchecked_sql = \"why\")`"
            .to_owned(),
    )
}

/// A `DO` block written by hand.
pub(crate) fn do_block(statement: &str) -> (String, String) {
    (
        format!("`{statement}` runs PL/pgSQL the lock rules do not read"),
        "write its statements as SQL the rules can check, or say why the block is safe: \
         `allow(unchecked_sql = \"why\")`"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn sql_the_parser_refuses_is_reported_with_its_line() {
        let found = findings(&[
            "CREATE TABLE t (id bigint);\nALTER TABLE t DROP CONSTRAINT c\nALTER TABLE t ADD COLUMN x int",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "unchecked_sql");
        assert!(found[0].1.contains("line 2 of the SQL"), "{}", found[0].1);
    }

    #[test]
    fn a_hand_written_do_block_is_reported() {
        let found = findings(&["DO $$ BEGIN PERFORM 1; END $$"]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("runs PL/pgSQL"), "{}", found[0].1);
    }

    #[test]
    fn an_unreadable_call_is_reported_never_skipped() {
        let found = crate::rules::lint_tests::findings_recorded(vec![crate::source::Recorded::Unreadable {
            call: "op.execute(&sql)".to_owned(),
            why: "its SQL is not a literal".to_owned(),
        }]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "unchecked_sql");
    }

    #[test]
    fn search_path_transaction_control_and_procedures_are_reported() {
        let found =
            findings(&["SET search_path = scratch, public", "COMMIT; BEGIN", "CALL refresh_everything()"]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["unchecked_sql"; 4], "{found:?}");
    }

    #[test]
    fn unreadable_calls_say_why() {
        let (message, _) = super::unreadable_call("op.execute(&sql)", "its SQL is not a literal");
        assert_eq!(message, "the lock rules cannot check `op.execute(&sql)`: its SQL is not a literal");
    }
}

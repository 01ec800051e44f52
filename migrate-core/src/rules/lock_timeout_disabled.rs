//! `lock_timeout_disabled`: SQL that turns the lock timeout off (`SET lock_timeout = 0`, to
//! `DEFAULT`, or `RESET lock_timeout`). The runner bounds every migration's wait for a lock
//! (2 s by default, retried), because a statement queued behind a long transaction for a lock it
//! does not have yet makes every later query of the table queue behind it. Waiting without a
//! bound is sometimes right (a quiet maintenance window); the migration then says why, with
//! `allow(lock_timeout_disabled = "why")`. A longer timeout is `op.lock_timeout(…)`, which
//! needs no reason.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, _cx: &Context<'_>) -> Option<Finding> {
    (fact.action == Action::LockTimeoutOff).then(|| Finding {
        message: format!(
            "`{}` turns the lock timeout off: a statement that waits for a lock then makes every later query of \
             its table queue behind it, for as long as it waits",
            fact.short()
        ),
        help: "give the migration a longer bound instead, `op.lock_timeout(Duration::from_secs(30))`, or say why \
               an unbounded wait is safe: `allow(lock_timeout_disabled = \"why\")`"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn turning_the_timeout_off_is_reported() {
        let found = findings(&[
            "SET LOCAL lock_timeout = 0",
            "SET lock_timeout TO '0ms'",
            "SET lock_timeout = DEFAULT",
            "RESET lock_timeout",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, ["lock_timeout_disabled"; 4], "{found:?}");
    }

    #[test]
    fn values_postgresql_reads_as_zero_and_wholesale_resets_are_reported() {
        let found = findings(&[
            "SET lock_timeout = '0.4ms'",
            "SET lock_timeout = '1us'",
            "SET lock_timeout = '0x0'",
            "SELECT set_config('lock_timeout', '0', false)",
            "RESET ALL",
            "DISCARD ALL",
        ]);
        assert_eq!(found.len(), 6, "{found:?}");
    }

    #[test]
    fn a_bound_passes() {
        assert_eq!(findings(&["SET LOCAL lock_timeout = '10s'", "SET statement_timeout = 0"]), []);
    }
}

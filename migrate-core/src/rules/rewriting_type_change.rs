//! `rewriting_type_change`: a column type change that rewrites the table and its indexes
//! under an ACCESS EXCLUSIVE lock. The old type comes from the migrations before; the changes
//! PostgreSQL makes in place pass: `varchar(n)` to a longer `varchar` or to `text`, `text` to
//! unbounded `varchar`, `numeric(p, s)` to more precision at the same scale or to `numeric`,
//! more precision for `timestamp`, `timestamptz`, `time` and `interval`, `cidr` to `inet`.
//! `timestamp` to `timestamptz` is in place from PostgreSQL 12 only when the session's TimeZone
//! is UTC, which the build cannot see: it is reported, with that in its help.

use crate::lint::{Action, Context, Fact, Finding};

pub(crate) fn check(fact: &Fact, cx: &Context<'_>) -> Option<Finding> {
    let Action::SetType { table, column, ty, using } = &fact.action else {
        return None;
    };
    if !cx.existing(table) {
        return None;
    }
    let old = cx.schema.column_type(table, column);
    if let Some(old) = old
        && !using
        && in_place(old, ty)
    {
        return None;
    }
    let change = match old {
        Some(old) => format!("`{old}` → `{ty}`"),
        None => format!("to `{ty}`, from a type the migrations before do not show"),
    };
    let zone = old.is_some_and(|old| split(old).0 == "timestamp")
        && split(ty).0 == "timestamptz"
        && cx.version >= 12;
    let help = if zone {
        "PostgreSQL 12 and later change `timestamp` to `timestamptz` in place only when the session's TimeZone is \
         UTC: if the migration sets it so, state `allow(rewriting_type_change = \"TimeZone is UTC\")`; otherwise add a \
         new column, fill it with `op.backfill(…)`, switch the code, then drop the old one"
            .to_owned()
    } else {
        format!(
            "add a new column of type `{ty}`, fill it with `op.backfill(…)` while code writes both, switch the code, \
             then drop `{column}`; or, for a small table, state `allow(rewriting_type_change = \"why\")`"
        )
    };
    Some(Finding {
        message: format!(
            "`{}` rewrites `{table}` and its indexes ({change}) under an ACCESS EXCLUSIVE lock: reads and writes \
             wait until it ends",
            fact.short()
        ),
        help,
    })
}

/// Whether PostgreSQL changes `old` to `new` without rewriting (binary-coercible, or a
/// widening it checks without a scan). Both in [`crate::lint::normal_type`]'s spelling.
pub(crate) fn in_place(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    // Arrays change in place only when nothing changes.
    if old.ends_with("[]") || new.ends_with("[]") {
        return false;
    }
    let (old_base, old_args) = split(old);
    let (new_base, new_args) = split(new);
    match (old_base, new_base) {
        ("varchar", "varchar") => widened(&old_args, &new_args, 0),
        ("varchar", "text") | ("cidr", "inet") => true,
        ("text", "varchar") => new_args.is_empty(),
        ("numeric", "numeric") => {
            new_args.is_empty()
                || (old_args.len() == 2
                    && new_args.len() == 2
                    && new_args[1] == old_args[1]
                    && new_args[0] >= old_args[0])
        }
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("time", "time")
        | ("interval", "interval") => widened(&old_args, &new_args, 0),
        _ => false,
    }
}

/// Whether the limit at `at` grows or goes (no argument means no limit).
fn widened(old: &[u32], new: &[u32], at: usize) -> bool {
    match (old.get(at), new.get(at)) {
        (_, None) => true,
        (Some(o), Some(n)) => n >= o,
        (None, Some(_)) => false,
    }
}

fn split(ty: &str) -> (&str, Vec<u32>) {
    match ty.split_once('(') {
        Some((base, rest)) => {
            (base, rest.trim_end_matches(')').split(',').filter_map(|n| n.trim().parse().ok()).collect())
        }
        None => (ty, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::lint_tests::findings;

    #[test]
    fn a_rewriting_change_names_both_types() {
        let found = findings(&[
            "CREATE TABLE scores (value integer)",
            "ALTER TABLE scores ALTER COLUMN value TYPE bigint",
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "rewriting_type_change");
        assert!(found[0].1.contains("(`integer` → `bigint`)"), "{}", found[0].1);
    }

    #[test]
    fn changes_in_place_pass() {
        let found = findings(&[
            "CREATE TABLE t (a varchar(20), b varchar(20), c numeric(10, 2), d character varying(5), e cidr, f timestamp(3))",
            "ALTER TABLE t ALTER COLUMN a TYPE varchar(40), ALTER COLUMN b TYPE text, ALTER COLUMN c TYPE numeric(12,2), \
             ALTER COLUMN d TYPE varchar, ALTER COLUMN e TYPE inet, ALTER COLUMN f TYPE timestamp(6)",
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn spellings_of_other_types_are_told_apart() {
        let found = findings(&[
            "CREATE TABLE t (code \"char\", tags varchar(10)[], name character(5))",
            "ALTER TABLE t ALTER COLUMN code TYPE char",
            "ALTER TABLE t ALTER COLUMN tags TYPE varchar(20)",
            "ALTER TABLE t ALTER COLUMN tags TYPE varchar(20)[]",
            "ALTER TABLE t ALTER COLUMN name TYPE bpchar(5)",
        ]);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        // "char" → char and an array → a plain column rewrite; widening the array's elements is
        // not on the in-place list either; character(5) → bpchar(5) is the same type.
        assert_eq!(rules, ["rewriting_type_change"; 3], "{found:?}");
    }

    #[test]
    fn narrowing_a_using_clause_or_an_unknown_type_is_reported() {
        let found = findings(&[
            "CREATE TABLE t (a varchar(20), b text)",
            "ALTER TABLE t ALTER COLUMN a TYPE varchar(10)",
            "ALTER TABLE t ALTER COLUMN b TYPE text USING trim(b)",
            "ALTER TABLE made_elsewhere ALTER COLUMN x TYPE text",
        ]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[2].1.contains("from a type the migrations before do not show"), "{}", found[2].1);
    }
}

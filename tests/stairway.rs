//! The stairway against downgrades that forget or alter one object each, subtly: a trigger's
//! level, a function's body or settings, a view's definition, a column's position, collation,
//! generated expression or identity, constraints, indexes, sequences, types, extensions,
//! comments, row level security, persistence, partition bounds, a trigger's state, a schema, a
//! default, a NOT NULL, a grant, a rule, a statistics object, a collation, an aggregate, a
//! procedure, a column's comment and storage, and a replica identity.
//! Every broken migration must be named with its object, and none of the correct ones between
//! them: a difference the catalog comparison invents would show up here.

use migrate_runtime::testkit;
use migrate_runtime::{Chain, Migrator};

static FORGETFUL: Chain = migrate_runtime::embed_migrations!("forgetful_downgrades");

/// The broken migrations in chain order: revision, the kind word and the name of the object its
/// downgrade gets wrong (a column's position is the table's `column order`), and a word of the
/// difference ("" when none is obvious). Compared without regard to case.
const BROKEN: &[(&str, &str, &str, &str)] = &[
    ("fa0000000002", "column", "name_key", "btrim"),
    ("fa0000000003", "table", "accounts", "column order"),
    ("fa0000000004", "column", "handle", "collation"),
    ("fa0000000005", "column", "id", "identity"),
    ("fa0000000007", "trigger", "accounts_touch", "statement"),
    ("fa0000000009", "function", "normalize_email", "btrim"),
    ("fa0000000010", "function", "normalize_email", "search_path"),
    ("fa0000000011", "function", "normalize_email", "immutable"),
    ("fa0000000013", "view", "active_accounts", "closed"),
    ("fa0000000014", "materialized view", "account_counts", ""),
    ("fa0000000016", "constraint", "account_notes_account_id_fkey", "cascade"),
    ("fa0000000017", "constraint", "accounts_status_known", "not valid"),
    ("fa0000000018", "index", "accounts_status_created_idx", "created_at"),
    ("fa0000000020", "sequence", "account_number_seq", "cache"),
    ("fa0000000021", "enum", "account_tier", "enterprise"),
    ("fa0000000022", "composite type", "postal_address", "city"),
    ("fa0000000023", "domain", "email_address", "valid"),
    ("fa0000000024", "range type", "price_range", "numeric"),
    ("fa0000000025", "extension", "pg_trgm", ""),
    ("fa0000000026", "trigger", "accounts_touch", "comment"),
    ("fa0000000028", "trigger", "accounts_audit", "replica"),
    ("fa0000000030", "table", "accounts", "security"),
    ("fa0000000031", "policy", "accounts_visible", "is not null"),
    ("fa0000000032", "table", "account_notes", "unlogged"),
    ("fa0000000034", "table", "account_logins_2024", "2025"),
    ("fa0000000035", "schema", "reporting", ""),
    ("fa0000000036", "column", "status", "'pending'"),
    ("fa0000000037", "column", "email", "not null"),
    ("fa0000000038", "table", "accounts", "privileges"),
    ("fa0000000039", "rule", "accounts_quiet", ""),
    ("fa0000000040", "statistics object", "accounts_status_handle", ""),
    ("fa0000000041", "collation", "loose", ""),
    ("fa0000000042", "aggregate", "product", ""),
    ("fa0000000043", "procedure", "close_accounts", ""),
    ("fa0000000044", "column", "handle", "the public name"),
    ("fa0000000045", "column", "body", "main"),
    ("fa0000000046", "table", "accounts", "replica identity"),
];

/// The correctly reversible migrations, which must not be named.
const CORRECT: &[&str] = &[
    "fa0000000001",
    "fa0000000006",
    "fa0000000008",
    "fa0000000012",
    "fa0000000015",
    "fa0000000019",
    "fa0000000027",
    "fa0000000029",
    "fa0000000033",
];

/// Whether `problem` names `name` in backticks, alone or qualified by its schema, or followed by
/// a function's argument list: `` `name` ``, `` `public.name` ``, `` `name(text)` ``.
fn names(problem: &str, name: &str) -> bool {
    [format!("`{name}`"), format!(".{name}`"), format!("`{name}("), format!(".{name}(")]
        .iter()
        .any(|form| problem.contains(form.as_str()))
}

#[test]
fn the_stairway_names_every_forgetful_downgrade_and_no_correct_one() {
    assert_eq!(BROKEN.len() + CORRECT.len(), FORGETFUL.len());
    let report = testkit::stairway(&Migrator::new(&FORGETFUL)).expect("runs");
    assert!(report.irreversible.is_empty(), "{report}");
    assert_eq!(report.checked.len(), FORGETFUL.len(), "{report}");

    let failed: Vec<&str> = report.failures.iter().map(|f| f.rev.as_str()).collect();
    let expected: Vec<&str> = BROKEN.iter().map(|&(rev, ..)| rev).collect();
    let missed: Vec<&str> = expected.iter().copied().filter(|rev| !failed.contains(rev)).collect();
    let invented: Vec<&str> = failed.iter().copied().filter(|rev| !expected.contains(rev)).collect();
    assert!(
        missed.is_empty() && invented.is_empty(),
        "missed: {missed:?}\nnamed though correct: {invented:?}\n{report}"
    );
    assert_eq!(failed, expected, "{report}");

    let mut wrong = Vec::new();
    for (failure, &(rev, kind, name, word)) in report.failures.iter().zip(BROKEN) {
        let problem = failure.problem.to_lowercase();
        let found = problem.contains(kind) && names(&problem, name) && problem.contains(word);
        if !found {
            wrong.push(format!("{rev}: no {kind} `{name}` with {word:?} in:\n{}", failure.problem));
        }
    }
    assert!(wrong.is_empty(), "{}\n\n{report}", wrong.join("\n\n"));
}

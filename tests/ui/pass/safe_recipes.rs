//! What the lock rules must keep accepting: the safe form of each change on a table that holds
//! rows. An index built concurrently, in a migration left to run outside a transaction
//! (`blocking_index`, `transaction_not_allowed`); a foreign key and a CHECK added
//! `NOT VALID`, validated in a later migration (`constraint_without_not_valid`); a backfill in
//! batches, then NOT NULL through a validated check (`blocking_not_null`); a unique constraint
//! on an index built concurrently (`blocking_unique`); a column added without a rewriting
//! default, given its default afterwards, and a constant default (`rewriting_add_column`); an
//! enum value added in its own migration and used in the next (`enum_value_in_transaction`); no
//! type change at all (`rewriting_type_change`); and a rename with the index built after it,
//! each stated with its reason (`destructive_change`, `unused_allow`), waiting longer for its
//! lock with a bound rather than none (`lock_timeout_disabled`), beside a `DO` block stated
//! safe (`unchecked_sql`).

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("safe_recipes");

fn main() {
    assert_eq!(MIGRATIONS.len(), 11);
    let transactional: Vec<bool> = MIGRATIONS.iter().map(|m| m.transactional).collect();
    assert_eq!(transactional, [true, false, true, true, false, false, false, true, false, true, true]);
}

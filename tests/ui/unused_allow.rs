//! `unused_allow`: overrides that take no effect: one matches nothing, one gives no reason,
//! one names a rule no override lifts.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unused_allow");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

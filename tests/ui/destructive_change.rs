//! `destructive_change`: a rename and a drop that code already deployed depends on.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("destructive_change");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

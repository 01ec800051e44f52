//! `missing_downgrade`: a migration with no way back.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("missing_downgrade");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

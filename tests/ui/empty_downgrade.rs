//! `empty_downgrade`: the guide's enum migration, whose downgrade does nothing.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("empty_downgrade");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

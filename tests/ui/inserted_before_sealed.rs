//! `inserted_before_sealed`: a new migration slipped before a sealed one, whose `down_revision` now names
//! it: reported under that `down_revision`.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("inserted_before_sealed");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `empty_upgrade`: a template filled in on one side only, its upgrade left as `let _ = op;`.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("empty_upgrade");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

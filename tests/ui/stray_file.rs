//! `stray_file`: what the migrations folder holds besides migrations and included files is
//! named, not skipped: a Python file, a migration saved as `.RS`, a subfolder of drafts.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("stray_file");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

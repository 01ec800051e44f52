//! `unwritten_template`: the file `cargo migrate revision` writes, its why given but neither
//! function written; each placeholder is reported under itself.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unwritten_template");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! `unknown_depends_on`: a typo in a branch label named by `depends_on`.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("unknown_depends_on");

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

//! What `unknown_argument` and `unwritten_template` must keep accepting: `#[migration]` with
//! every argument it knows spelt out (`rev`, `down_revision`, `transactional`), and a
//! `revision` template whose placeholders were written out, a comment still naming `todo!()`.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("written_template");

fn main() {
    let index = MIGRATIONS.get("a1b2c3d4e5f6").expect("compiled");
    assert!(!index.transactional);
    let sql = |ops: migrate_runtime::op::Op| ops.statements().into_iter().map(|s| s.sql).collect::<Vec<_>>();
    assert_eq!(sql(index.upgrade_ops()), ["CREATE INDEX CONCURRENTLY people_email ON people (email)"]);
    assert_eq!(sql(index.downgrade_ops()), ["DROP INDEX CONCURRENTLY people_email"]);
}

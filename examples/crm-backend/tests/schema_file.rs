//! The committed `schema.sql` is what the migrations build at their head: a migration added
//! without running `cargo migrate schema` fails this test, with the difference and the help.

use migrate_runtime::testkit;
use migrate_runtime::{Chain, Migrator};

static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

#[test]
fn the_committed_schema_file_is_what_the_head_builds() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.sql");
    if let Err(error) = testkit::check_schema_file(&Migrator::new(&MIGRATIONS), &path) {
        panic!("{error}");
    }
}

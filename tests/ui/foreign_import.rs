//! `foreign_import`: a migration importing the application's models.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("foreign_import");

mod models {
    pub struct Person;
    impl Person {
        pub const TABLE: &str = "people";
    }
}

fn main() {
    assert!(MIGRATIONS.len() > 0);
}

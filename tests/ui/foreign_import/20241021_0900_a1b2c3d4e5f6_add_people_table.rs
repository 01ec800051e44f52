/// The CRM starts with the people it tracks.
#[migration(rev = "a1b2c3d4e5f6", down_revision = None,
    allow(unchecked_sql = "this fixture shows foreign_import: its SQL comes from outside the migration on purpose"))]
mod add_people_table {
    use migrate_runtime::prelude::*;
    use crate::models::Person;

    pub fn upgrade(op: &mut Op) {
        op.create_table(Person::TABLE, |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
        let _ = postgres::NoTls;
        let _ = tokio::time::Instant::now();
        super::add_people_table::downgrade(op);
        op.execute(include_str!("../../../README.md"));
        op.execute(&std::format!("SELECT {}", String::from("1")));
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("people");
    }
}

/// Phone numbers.
#[migration(rev = "eeee00000005", down_revision = "dddd00000004")]
mod add_people_phone_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "phone", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "phone");
    }
}

/// Partners are tracked as people too.
#[migration(rev = "c4d5e6f7a8b9", down_revision = "b3c4d5e6f7a8")]
mod add_partner_person_kind {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("person_kind", "partner");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("PostgreSQL cannot drop an enum value");
    }
}

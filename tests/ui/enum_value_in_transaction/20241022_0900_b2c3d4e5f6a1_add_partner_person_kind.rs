/// Partners are tracked as people too; the known ones are marked at once.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6", transactional = true)]
mod add_partner_person_kind {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("person_kind", "partner");
        op.execute("UPDATE people SET kind = 'partner' WHERE email LIKE '%@partner.example'");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("PostgreSQL cannot drop an enum value");
    }
}

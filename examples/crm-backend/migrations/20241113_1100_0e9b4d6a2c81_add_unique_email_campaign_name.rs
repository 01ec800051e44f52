/// Two campaigns with one name confused the marketing reports.
#[migration(rev = "0e9b4d6a2c81", down_revision = "f1c7a2e9d4b6",
    allow(blocking_unique = "email_campaigns holds a few dozen rows: the index builds in milliseconds"))]
mod add_unique_email_campaign_name {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_unique_constraint("uq_email_campaign_name", "email_campaigns", &["name"]);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_constraint("email_campaigns", "uq_email_campaign_name");
    }
}

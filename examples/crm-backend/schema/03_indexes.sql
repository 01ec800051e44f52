CREATE INDEX idx_interactions_org_created ON interactions (organisation_id, created_at);

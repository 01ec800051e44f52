-- The CRM's schema as it should be: edit it, then `cargo migrate revision --autogenerate -m <slug>`
-- writes the migration that gets the database there. Files run in name order.

CREATE TYPE interaction_type AS ENUM ('call', 'email', 'meeting', 'linkedin_message');

-- Signing key rotation: a new key is first `pending` (published in the certificate bundle, not
-- signing), then `active` (signing); the key it replaces becomes `retired` and stays published
-- until every token it signed has expired.
ALTER TABLE signing_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE signing_keys ADD COLUMN retired_at BIGINT

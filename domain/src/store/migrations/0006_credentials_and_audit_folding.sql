-- Sessions and refresh tokens belong to a user id and a credential fingerprint made from the
-- password hash and this epoch: a password reset, a new service token or disabling the user
-- bumps it, so everything signed in before ends for good (enabling again revives nothing).
ALTER TABLE users ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
-- Identical refusals (same actor, address, action, target and detail) within one minute are
-- one row with a count; `fold_key` names that minute and event, and is empty (NULL) for every
-- row that is never folded, such as changes.
ALTER TABLE audit_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN fold_key TEXT;
CREATE UNIQUE INDEX audit_events_fold ON audit_events (fold_key);

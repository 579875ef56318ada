-- Service accounts (robots for CI and cluster nodes): users that sign in to the registry with a
-- generated token instead of a password, and never to Regent's pages.
ALTER TABLE users ADD COLUMN service BOOLEAN NOT NULL DEFAULT FALSE;

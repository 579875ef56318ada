-- Users and groups from the company directory (LDAP, Active Directory). A user with a
-- directory_dn signs in with the directory's password (their password_hash is a marker no
-- password matches); a group marked directory has the members the directory gave at each
-- member's last sign-in.
ALTER TABLE users ADD COLUMN directory_dn TEXT;
ALTER TABLE groups ADD COLUMN directory BOOLEAN NOT NULL DEFAULT FALSE;

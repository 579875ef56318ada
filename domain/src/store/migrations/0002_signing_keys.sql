-- The registry token service's signing keys (PKCS#8 PEM) and their certificates, newest last.
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY,
    key_pem TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row counting committed changes: caches of users, grants and policy (the token
-- service's) are valid only while it stands still, whichever process made the change.
CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO store_meta (id, generation) VALUES (1, 0);

-- What deletes made in Regent left for the registry's garbage collection: blobs whose last
-- manifest Regent deleted, and manifests Regent left untagged (they keep their blobs alive
-- unless garbage collection runs with --delete-untagged).
CREATE TABLE gc_candidates (
    digest TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    noted_at BIGINT NOT NULL
);

CREATE TABLE gc_untagged (
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    blobs TEXT NOT NULL,
    size BIGINT NOT NULL,
    noted_at BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
)

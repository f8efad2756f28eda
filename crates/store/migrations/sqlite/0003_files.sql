-- File objects: metadata of files held for a while (their bytes live in the content store,
-- keyed by the same id). A row is written only once its content is complete.
-- owner_kind is 'run', 'user' or 'system'; owner_id is the run or user id (NULL for 'system').
-- No foreign keys to runs or users: a run may be purged before its files are swept, and the
-- files service removes a purged run's files itself.

CREATE TABLE files (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    sha256     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('run', 'user', 'system')),
    owner_id   TEXT,
    CHECK ((owner_kind = 'system') = (owner_id IS NULL))
) STRICT;

CREATE INDEX files_by_owner ON files (owner_kind, owner_id, created_at);
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;

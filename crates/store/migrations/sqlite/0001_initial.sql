-- jiraflow store, initial schema.
-- Ids are TEXT UUIDs (v4). Instants are INTEGER epoch milliseconds (UTC) so comparisons and
-- ordering are numeric. Secrets are BLOBs sealed with the master key
-- (key id || nonce || XChaCha20-Poly1305 ciphertext) with `table:id:column` as associated data.
-- Names are unique case-insensitively (ASCII, COLLATE NOCASE).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_permissions (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (user_id, permission)
) STRICT;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_apps (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    client_id     TEXT NOT NULL,
    client_secret BLOB NOT NULL,
    scopes        TEXT NOT NULL,
    auth_base_url TEXT NOT NULL,
    api_base_url  TEXT NOT NULL,
    environment   TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE token_families (
    id                TEXT PRIMARY KEY,
    oauth_app_id      TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE RESTRICT,
    access_token      BLOB NOT NULL,
    refresh_token     BLOB,
    expires_at        INTEGER NOT NULL,
    scopes            TEXT NOT NULL,
    version           INTEGER NOT NULL,
    family_created_at INTEGER NOT NULL,
    last_refreshed_at INTEGER,
    lease_id          TEXT,
    lease_owner       TEXT,
    lease_until       INTEGER
) STRICT;

CREATE TABLE named_credentials (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL COLLATE NOCASE UNIQUE,
    url                 TEXT NOT NULL,
    oauth_app_id        TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE RESTRICT,
    principal_family_id TEXT NOT NULL UNIQUE REFERENCES token_families (id) ON DELETE RESTRICT,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE principal_grants (
    named_credential_id TEXT NOT NULL REFERENCES named_credentials (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (named_credential_id, user_id)
) STRICT;

CREATE TABLE connections (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL COLLATE NOCASE UNIQUE,
    description         TEXT NOT NULL,
    environment         TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    oauth_app_id        TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE RESTRICT,
    cloud_id            TEXT NOT NULL,
    instance_url        TEXT NOT NULL,
    site_url            TEXT,
    status              TEXT NOT NULL CHECK (status IN ('active', 'reconnect_required', 'inactive')),
    status_message      TEXT,
    kind                TEXT NOT NULL CHECK (kind IN ('standard', 'named_credential')),
    named_credential_id TEXT REFERENCES named_credentials (id) ON DELETE RESTRICT,
    token_family_id     TEXT NOT NULL REFERENCES token_families (id) ON DELETE RESTRICT,
    created_by          TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK ((kind = 'standard') = (named_credential_id IS NULL))
) STRICT;

CREATE INDEX connections_by_family ON connections (token_family_id);
CREATE INDEX connections_by_named_credential ON connections (named_credential_id);

-- Flow references pin a connection against deletion. The flows issue fills this table when a
-- flow is saved; until then it is the single source of "which flows use this connection".
CREATE TABLE connection_refs (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE RESTRICT,
    flow_name     TEXT NOT NULL,
    PRIMARY KEY (connection_id, flow_name)
) STRICT;

CREATE TABLE pending_authorizations (
    id           TEXT PRIMARY KEY,
    state_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    oauth_app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER
) STRICT;

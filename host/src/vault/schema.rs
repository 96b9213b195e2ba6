//! The vault's SQLite schema. Samples are sealed in day chunks whose user,
//! type and UTC day stay plaintext for the index; every time, value,
//! identifier and free text is sealed with the user's key (see `chunks.rs`
//! and `users.rs`). Security-relevant rows
//! carry a `mac` (see `rowmac.rs`); upgrades are in `migrate.rs`.

/// Schema version stored in `meta`. 4: vault v2, samples in sealed day
/// chunks (`migrate_v2.rs` moves v1's per-sample rows). 3: row MACs,
/// `AUTOINCREMENT` user ids, a global consent version counter, the audit
/// head anchor file. Tables
/// added since (`access_tokens`, `web_login_links`, `web_sessions`) are created by `CREATE TABLE IF NOT
/// EXISTS` when a home of schema 3 opens, with their `mac` column: a new
/// table has no older rows to upgrade, so the version stays 3.
pub const SCHEMA_VERSION: &str = "4";

/// Columns added after version 1, for vaults created before them.
pub const ADDED_COLUMNS: [(&str, &str, &str); 8] = [
    ("plugins", "approval", "TEXT"),
    ("consent_versions", "consented_manifest", "TEXT"),
    ("plugins", "mac", "BLOB"),
    ("trusted_reviewers", "mac", "BLOB"),
    ("consents", "mac", "BLOB"),
    ("consent_versions", "mac", "BLOB"),
    ("capability_grants", "mac", "BLOB"),
    ("meta", "mac", "BLOB"),
];

/// Creates every table and index that does not exist yet.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A user: `ref` is an HMAC of the handle (a pseudonym used everywhere
-- else), `handle` the sealed handle, `wrapped_key` the user's data key
-- sealed with the master-derived wrapping key. Ids are never reused.
CREATE TABLE IF NOT EXISTS users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ref         BLOB NOT NULL UNIQUE,
    handle      BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_ms  INTEGER NOT NULL
);

-- A user's IANA time zone (absent: UTC), sealed: local days and hours
-- follow it.
CREATE TABLE IF NOT EXISTS user_zones (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tz      BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS plugins (
    id               TEXT PRIMARY KEY,
    version          TEXT NOT NULL,
    name             TEXT NOT NULL,
    publisher        TEXT NOT NULL,
    world            TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    manifest_sha256  TEXT NOT NULL,
    component_sha256 TEXT NOT NULL,
    installed_ms     INTEGER NOT NULL,
    dev              INTEGER NOT NULL DEFAULT 0,
    approval         TEXT
);

-- One row per user x plugin x type. A revoke keeps the row (revoked_ms)
-- so the plugin is told `revoked`, and `consent show` can say so.
CREATE TABLE IF NOT EXISTS consents (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL,
    data_type   INTEGER NOT NULL,
    read        INTEGER NOT NULL,
    write       INTEGER NOT NULL,
    fields      INTEGER NOT NULL,
    days        INTEGER,
    since_ms    INTEGER,
    granularity INTEGER NOT NULL,
    until_ms    INTEGER,
    purpose     TEXT NOT NULL,
    granted_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER,
    PRIMARY KEY (user_id, plugin_id, data_type)
);

-- Set from the global counter `meta.consent_version` (which only grows) on
-- every grant or revoke; host calls compare it to the version their grants
-- were computed from, so a revoke bites on the next call.
CREATE TABLE IF NOT EXISTS consent_versions (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    -- sha256 of the manifest the user last granted against: after an
    -- upgrade that asks for more, a re-consent is pending.
    consented_manifest TEXT,
    PRIMARY KEY (user_id, plugin_id)
);

-- Samples (vault v2): one sealed chunk per user x type x UTC day holding
-- that day's samples as columns (see chunk.rs, chunks.rs): exact times,
-- values, digests and counts are inside the seal, only the day is not.
CREATE TABLE IF NOT EXISTS sample_chunks (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data_type INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    payload   BLOB NOT NULL,
    UNIQUE (user_id, data_type, day)
);

-- Samples a plugin wrote during an invocation still running, as sealed
-- chunks bound to the invocation: merged into `sample_chunks` when it
-- succeeds, deleted when it fails, so an invocation's writes are all or
-- nothing. Rows left by a crashed process are deleted when the vault next
-- opens (they were never visible).
CREATE TABLE IF NOT EXISTS staged_chunks (
    invocation TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data_type  INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    payload    BLOB NOT NULL,
    staged_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS staged_chunks_by_invocation ON staged_chunks (invocation, data_type, day);

-- Capabilities beyond data (per user x plugin): `storage`, and `network`
-- with the origins granted (never more than the manifest lists).
CREATE TABLE IF NOT EXISTS capability_grants (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL,
    capability TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    PRIMARY KEY (user_id, plugin_id, capability)
);

-- Plugin storage: one user x one plugin. `key_mac` is a keyed MAC of the
-- key (for lookup); key and value are sealed with the user's key.
CREATE TABLE IF NOT EXISTS plugin_storage (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id TEXT NOT NULL,
    key_mac   BLOB NOT NULL,
    key       BLOB NOT NULL,
    value     BLOB NOT NULL,
    size      INTEGER NOT NULL,
    PRIMARY KEY (user_id, plugin_id, key_mac)
);

-- Reviewers whose approvals this platform trusts (ed25519 public keys).
CREATE TABLE IF NOT EXISTS trusted_reviewers (
    public_key TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    added_ms   INTEGER NOT NULL
);

-- Every manifest ever installed, by sha256, so a user's consent can be
-- compared with the manifest they consented to after an upgrade.
CREATE TABLE IF NOT EXISTS plugin_manifests (
    sha256    TEXT PRIMARY KEY,
    plugin_id TEXT NOT NULL,
    manifest  TEXT NOT NULL
);

-- Bearer tokens healthplug issues itself (see tokens.rs): the secret is
-- never stored, only `secret_hash` (an HMAC under a master-derived key);
-- `user_ref` is the user's `users.ref`, so the row names its user twice;
-- `label` is sealed with the user's key. Every row is MACed.
CREATE TABLE IF NOT EXISTS access_tokens (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BLOB NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    label       BLOB,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER,
    revoked_ms  INTEGER,
    mac         BLOB
);
CREATE INDEX IF NOT EXISTS access_tokens_by_user ON access_tokens (user_id);

-- The consent page's one-time sign-in links and sessions (see web.rs):
-- secrets only as `secret_hash` (an HMAC under a master-derived key), the
-- user named twice (`user_id`, `user_ref`), `closed_ms` when a link was
-- used or a session ended. Every row is MACed.
CREATE TABLE IF NOT EXISTS web_login_links (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BLOB NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    closed_ms   INTEGER,
    mac         BLOB
);
CREATE TABLE IF NOT EXISTS web_sessions (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BLOB NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    closed_ms   INTEGER,
    mac         BLOB
);

-- The hash-chained audit log (see audit.rs).
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    entry     TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
"#;

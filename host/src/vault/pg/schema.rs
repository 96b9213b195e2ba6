//! The vault's PostgreSQL schema as numbered migrations, run on start by
//! whichever host opens the database first (under an advisory lock, so
//! several hosts starting together migrate once). The tables are those of
//! the SQLite vault (`../schema.rs`) with PostgreSQL types: integers are
//! `BIGINT` (booleans too, so a row's MAC encodes the same values on both
//! backends), bytes `BYTEA`, ids from identity columns that never go back.
//! Sealed columns stay sealed: the database never sees a key or a
//! plaintext value. Added here: `components`, the installed component
//! bytes every host compiles from.

use anyhow::{Context, Result, bail};

use super::Db;
use super::grants::seed_counter;
use crate::vault::{DerivedKeys, STALE_STAGED_MS, now_ms};

/// The migrations, in order; the position (from 1) is the version.
pub(super) const MIGRATIONS: [&str; 1] = [V1];

/// The advisory lock key migrations hold (an arbitrary constant).
pub(super) const MIGRATION_LOCK: i64 = 0x6865_616c_7468_0001;

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    mac   BYTEA
);
CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         BYTEA NOT NULL UNIQUE,
    handle      BYTEA NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE TABLE user_zones (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tz      BYTEA NOT NULL
);
CREATE TABLE plugins (
    id               TEXT PRIMARY KEY,
    version          TEXT NOT NULL,
    name             TEXT NOT NULL,
    publisher        TEXT NOT NULL,
    world            TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    manifest_sha256  TEXT NOT NULL,
    component_sha256 TEXT NOT NULL,
    installed_ms     BIGINT NOT NULL,
    dev              BIGINT NOT NULL DEFAULT 0,
    approval         TEXT,
    mac              BYTEA
);
CREATE TABLE plugin_manifests (
    sha256    TEXT PRIMARY KEY,
    plugin_id TEXT NOT NULL,
    manifest  TEXT NOT NULL
);
CREATE TABLE components (
    sha256 TEXT PRIMARY KEY,
    bytes  BYTEA NOT NULL
);
CREATE TABLE consents (
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL,
    data_type   BIGINT NOT NULL,
    read        BIGINT NOT NULL,
    write       BIGINT NOT NULL,
    fields      BIGINT NOT NULL,
    days        BIGINT,
    since_ms    BIGINT,
    granularity BIGINT NOT NULL,
    until_ms    BIGINT,
    purpose     TEXT NOT NULL,
    granted_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT,
    mac         BYTEA,
    PRIMARY KEY (user_id, plugin_id, data_type)
);
CREATE TABLE consent_versions (
    user_id            BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id          TEXT NOT NULL,
    version            BIGINT NOT NULL,
    consented_manifest TEXT,
    mac                BYTEA,
    PRIMARY KEY (user_id, plugin_id)
);
CREATE TABLE sample_chunks (
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data_type BIGINT NOT NULL,
    day       BIGINT NOT NULL,
    payload   BYTEA NOT NULL,
    PRIMARY KEY (user_id, data_type, day)
);
CREATE TABLE staged_chunks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invocation TEXT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data_type  BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    payload    BYTEA NOT NULL,
    staged_ms  BIGINT NOT NULL
);
CREATE INDEX staged_chunks_by_invocation ON staged_chunks (invocation, data_type, day);
CREATE INDEX staged_chunks_by_age ON staged_chunks (staged_ms);
CREATE TABLE capability_grants (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL,
    capability TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    mac        BYTEA,
    PRIMARY KEY (user_id, plugin_id, capability)
);
CREATE TABLE plugin_storage (
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin_id TEXT NOT NULL,
    key_mac   BYTEA NOT NULL,
    key       BYTEA NOT NULL,
    value     BYTEA NOT NULL,
    size      BIGINT NOT NULL,
    PRIMARY KEY (user_id, plugin_id, key_mac)
);
CREATE TABLE trusted_reviewers (
    public_key TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    added_ms   BIGINT NOT NULL,
    mac        BYTEA
);
CREATE TABLE access_tokens (
    id          TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BYTEA NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    label       BYTEA,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT,
    revoked_ms  BIGINT,
    mac         BYTEA,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);
CREATE TABLE web_login_links (
    id          TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BYTEA NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    closed_ms   BIGINT,
    mac         BYTEA
);
CREATE TABLE web_sessions (
    id          TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_ref    BYTEA NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    closed_ms   BIGINT,
    mac         BYTEA
);
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    entry     TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
"#;

/// Which migrations a database at `current` still needs, refusing one
/// newer than this build (a host must never write a schema it does not
/// know).
pub(super) fn pending(current: i64) -> Result<std::ops::Range<usize>> {
    let known = i64::try_from(MIGRATIONS.len()).context("too many migrations")?;
    if current > known {
        bail!(
            "the database's vault schema is version {current}, newer than this healthplug knows ({known}): \
             upgrade healthplug on this host before it joins the others"
        );
    }
    if current < 0 {
        bail!("the database's vault schema version {current} is not a version: it was altered outside healthplug");
    }
    Ok(usize::try_from(current).unwrap_or(0)..MIGRATIONS.len())
}

/// Brings the database to this build's schema (under the migration
/// lock, each migration with its version bump in one transaction), then
/// checks it belongs to this master key and drops staged writes of
/// invocations that died over an hour ago (never visible).
pub(super) fn migrate(db: &Db<'_>, keys: &DerivedKeys, check: &str) -> Result<()> {
    db.exec("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = migrate_locked(db, keys, check);
    let unlocked = db.exec("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result.and(unlocked.map(|_| ()))
}

fn migrate_locked(db: &Db<'_>, keys: &DerivedKeys, check: &str) -> Result<()> {
    // `IF NOT EXISTS` on an existing table is a notice, not news.
    db.batch("SET client_min_messages = warning")?;
    db.batch("CREATE TABLE IF NOT EXISTS healthplug_schema (one BIGINT PRIMARY KEY CHECK (one = 1), version BIGINT NOT NULL)")?;
    db.exec(
        "INSERT INTO healthplug_schema (one, version) VALUES (1, 0) ON CONFLICT (one) DO NOTHING",
        &[],
    )?;
    let current: i64 = db.one("SELECT version FROM healthplug_schema", &[])?.get(0);
    for index in pending(current)? {
        let version = index + 1;
        db.batch(&format!(
            "{}\nUPDATE healthplug_schema SET version = {version};",
            MIGRATIONS[index]
        ))
        .with_context(|| format!("migrating the vault database to schema {version}"))?;
    }
    db.exec(
        "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
        &[&check],
    )?;
    let stored: String = db.one("SELECT value FROM meta WHERE key = 'key_check'", &[])?.get(0);
    if stored != check {
        bail!(
            "this database holds another platform's vault: its master key is not this host's \
             (set the same master key on every host of one database)"
        );
    }
    seed_counter(db, keys)?;
    db.exec(
        "DELETE FROM staged_chunks WHERE staged_ms < $1",
        &[&(now_ms() - STALE_STAGED_MS)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_or_negative_schema_is_refused_and_an_older_one_migrated() {
        assert_eq!(pending(0).unwrap(), 0..MIGRATIONS.len());
        assert!(pending(MIGRATIONS.len() as i64).unwrap().is_empty());
        let newer = pending(MIGRATIONS.len() as i64 + 1).unwrap_err().to_string();
        assert!(newer.contains("newer than this healthplug"), "{newer}");
        assert!(pending(-1).is_err());
    }
}

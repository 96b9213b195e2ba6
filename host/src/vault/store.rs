//! The storage trait: every operation the layers above the vault perform on
//! the database, on one connection or inside one write transaction, with
//! no SQL and no database type in any signature. `platform` and
//! `capabilities` see only `&dyn Store` (`Vault::read`, `Vault::write`,
//! `Vault::store`); the SQLite backend implements it in `store_sqlite.rs`,
//! and a second backend implements the same trait in a module of its own.
//!
//! A backend implements the required methods: rows, MACs and ciphertext
//! by key. The provided methods (`kv_get`, `kv_put`, `stage_samples`,
//! `commit_staged`, `insert_samples`, ...) seal, open and merge on this
//! side of the trait over those, so no required method takes a user's
//! data key. A backend module does hold the vault's derived row-MAC and
//! audit keys (it authenticates rows and extends the audit chain, in this
//! process); the database itself never receives a key or a plaintext
//! value.
//!
//! The contract every backend keeps (`store_suite.rs` checks it against
//! each):
//! - what it is handed sealed stays sealed: values, key names, chunk
//!   payloads and handles arrive as ciphertext or keyed digests;
//! - security-relevant rows (consents, capability grants, plugins, tokens,
//!   sessions, reviewers) are authenticated: a row altered outside
//!   healthplug is an `IntegrityError`, never a silently different grant;
//! - a write transaction is all or nothing, and a consent or capability
//!   change bumps the (user, plugin) consent version in the same
//!   transaction, so a reader that sees the version sees the change;
//! - staged samples are invisible to every read until `commit_staged`.

use anyhow::Result;

use super::audit::{AuditEntry, AuditEvent, VerifyReport};
use super::capabilities::CapabilityGrant;
use super::chunks;
use super::keys::SecretKey;
use super::plugins::PluginRecord;
use super::samples::{self, InsertReport, NewSample, Origin};
use super::storage::{self, SealedEntry, Usage};
use super::tokens::{StoredToken, TokenHit, TokenInsert};
use super::trust::Reviewer;
use super::users::{ErasedRows, UserRow};
use super::web::{WebHit, WebInsert, WebKind};
use crate::consent::{Capability, CapabilityScope, UserGrant};
use crate::registry::DataType;

/// What [`Store::chunk_each_of_user`] calls with each chunk: its type
/// code, UTC day and sealed payload.
pub type EachChunk<'a> = dyn FnMut(u8, i64, &[u8]) -> Result<()> + 'a;

/// One connection (`Vault::read`, `Vault::store`) or one write transaction
/// (`Vault::write`) on the database holding the vault.
pub trait Store {
    // --- consents -------------------------------------------------------

    /// The consent version of (user, plugin); it changes with every grant
    /// or revoke of a type or capability.
    fn consent_version(&self, user_id: i64, plugin: &str) -> Result<i64>;

    /// The user's data grants to the plugin, revoked ones included.
    fn consent_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<UserGrant>>;

    /// Writes grant rows (replacing earlier rows of the same types) and
    /// bumps the consent version.
    fn put_consents(&self, user_id: i64, plugin: &str, grants: &[UserGrant]) -> Result<()>;

    /// Marks grants revoked (all types when `types` is `None`) and bumps
    /// the version; returns the types that were in force.
    fn revoke_consents(
        &self,
        user_id: i64,
        plugin: &str,
        types: Option<&[DataType]>,
        now_ms: i64,
    ) -> Result<Vec<DataType>>;

    /// Bumps the consent version alone.
    fn bump_consent(&self, user_id: i64, plugin: &str) -> Result<()>;

    /// The manifest sha256 the user last consented to.
    fn consented_manifest(&self, user_id: i64, plugin: &str) -> Result<Option<String>>;

    /// Records the manifest sha256 the user consented to.
    fn set_consented_manifest(&self, user_id: i64, plugin: &str, sha256: &str) -> Result<()>;

    /// Every consent row of a user, by plugin.
    fn consents_of_user(&self, user_id: i64) -> Result<Vec<(String, UserGrant)>>;

    // --- capability grants ------------------------------------------------

    /// The capability rows of (user, plugin), revoked ones included.
    fn capability_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<CapabilityGrant>>;

    /// The scope of `capability` in force, if granted.
    fn active_capability(&self, user_id: i64, plugin: &str, capability: Capability) -> Result<Option<CapabilityScope>>;

    /// Grants a capability (replacing an earlier row) and bumps the consent
    /// version.
    fn put_capability(&self, user_id: i64, plugin: &str, scope: &CapabilityScope, now_ms: i64) -> Result<()>;

    /// Revokes capabilities (all when `only` is `None`) and bumps the
    /// consent version if one was in force; returns those that were.
    fn revoke_capabilities(
        &self,
        user_id: i64,
        plugin: &str,
        only: Option<Capability>,
        now_ms: i64,
    ) -> Result<Vec<Capability>>;

    // --- plugins ---------------------------------------------------------

    /// Inserts or replaces an installed plugin's record.
    fn upsert_plugin(&self, record: &PluginRecord) -> Result<()>;

    /// Removes a plugin's record; whether there was one.
    fn delete_plugin(&self, id: &str) -> Result<bool>;

    /// The manifest text of the installed plugin whose component has this
    /// sha256, if any.
    fn manifest_by_sha(&self, sha256: &str) -> Result<Option<String>>;

    /// Every installed plugin, by id.
    fn plugins(&self) -> Result<Vec<PluginRecord>>;

    /// The installed plugin with this id.
    fn plugin(&self, id: &str) -> Result<Option<PluginRecord>>;

    /// The bytes of installed component `sha256`, checked against it, from
    /// a database several hosts share; `None` from a backend whose hosts
    /// keep components in their home directory only (SQLite).
    fn component_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let _ = sha256;
        Ok(None)
    }

    /// Stores installed component bytes where every host finds them (a
    /// shared database); nothing for a home-only backend (SQLite).
    fn put_component_bytes(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let _ = (sha256, bytes);
        Ok(())
    }

    // --- plugin storage (values and key names sealed with the user key) --

    /// The sealed value under a key MAC.
    fn kv_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The stored size (key and value) under a key MAC.
    fn kv_size(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<u64>>;

    /// Every (key MAC, sealed key name) of (user, plugin).
    fn kv_sealed_keys(&self, user_id: i64, plugin: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Writes (`Some`) or deletes (`None`) the entry under a key MAC.
    fn kv_put_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8], entry: Option<SealedEntry<'_>>) -> Result<()>;

    /// Bytes and keys stored for (user, plugin).
    fn kv_usage(&self, user_id: i64, plugin: &str) -> Result<Usage>;

    /// Deletes every entry of the user (of one plugin, if given); how many.
    fn kv_delete_all(&self, user_id: i64, plugin: Option<&str>) -> Result<u64>;

    /// The value under `name` (provided: sealing stays on this side).
    fn kv_get(&self, user_id: i64, plugin: &str, key: &SecretKey, name: &str) -> Result<Option<Vec<u8>>> {
        storage::get(self, user_id, plugin, key, name)
    }

    /// The stored size of `name` (key and value), if present (provided).
    fn kv_size_of(&self, user_id: i64, plugin: &str, key: &SecretKey, name: &str) -> Result<Option<u64>> {
        storage::size_of(self, user_id, plugin, key, name)
    }

    /// Every key name stored, sorted (provided).
    fn kv_keys(&self, user_id: i64, plugin: &str, key: &SecretKey) -> Result<Vec<String>> {
        storage::keys(self, user_id, plugin, key)
    }

    /// Sets (`Some`) or deletes (`None`) `name` (provided).
    fn kv_put(&self, user_id: i64, plugin: &str, key: &SecretKey, name: &str, value: Option<&[u8]>) -> Result<()> {
        storage::put(self, user_id, plugin, key, name, value)
    }

    // --- sealed day chunks -------------------------------------------------

    /// The first UTC day in `[from, to]` holding a chunk of type code `ty`
    /// (from the plaintext index: nothing is opened).
    fn chunk_next_day(&self, user_id: i64, ty: u8, days: (i64, i64)) -> Result<Option<i64>>;

    /// The sealed chunk of (user, type code, UTC day), if any.
    fn chunk_sealed(&self, user_id: i64, ty: u8, day: i64) -> Result<Option<Vec<u8>>>;

    /// Calls `each` with every sealed chunk of `ty` in days `[from, to]`, in
    /// day order; `each` returns `false` to stop.
    fn chunk_each_sealed(
        &self,
        user_id: i64,
        ty: u8,
        days: (i64, i64),
        each: &mut dyn FnMut(i64, &[u8]) -> Result<bool>,
    ) -> Result<()>;

    /// Writes the sealed chunk of (user, type code, UTC day), replacing
    /// the one stored.
    fn put_chunk(&self, user_id: i64, ty: u8, day: i64, sealed: &[u8]) -> Result<()>;

    /// Stages one sealed chunk for `invocation` (never visible to reads).
    fn put_staged(&self, invocation: &str, user_id: i64, at: (u8, i64), sealed: &[u8], staged_ms: i64) -> Result<()>;

    /// The (type code, day) pairs `invocation` staged for `user_id`.
    fn staged_days(&self, invocation: &str, user_id: i64) -> Result<Vec<(u8, i64)>>;

    /// The sealed chunks `invocation` staged for (type code, day), in
    /// staging order.
    fn staged_sealed(&self, invocation: &str, user_id: i64, at: (u8, i64)) -> Result<Vec<Vec<u8>>>;

    /// Stores `samples` now (merged into their day chunks), skipping exact
    /// duplicates of stored samples and repeats within `samples`
    /// (provided: merging and sealing stay on this side).
    fn insert_samples(
        &self,
        user_id: i64,
        key: &SecretKey,
        origin: &Origin,
        samples: &[NewSample],
    ) -> Result<InsertReport> {
        samples::insert(self, user_id, key, origin, samples)
    }

    /// Stages `samples` for `invocation`, sealed, invisible to reads; never
    /// looks at what is stored (a plugin timing its writes learns nothing)
    /// (provided).
    fn stage_samples(
        &self,
        invocation: &str,
        user_id: i64,
        key: &SecretKey,
        origin: &Origin,
        samples: &[NewSample],
    ) -> Result<()> {
        samples::stage(self, invocation, user_id, key, origin, samples)
    }

    /// Merges `invocation`'s staged chunks into the stored ones and drops
    /// them; the new samples stored per type, duplicates skipped
    /// (provided).
    fn commit_staged(&self, invocation: &str, user_id: i64, key: &SecretKey) -> Result<Vec<(DataType, u64)>> {
        chunks::commit_staged(self, invocation, user_id, key)
    }

    /// Drops `invocation`'s staged chunks; how many there were.
    fn discard_staged(&self, invocation: &str) -> Result<u64>;

    // --- users ---------------------------------------------------------------

    /// The (id, created) of the user with this ref.
    fn user_by_ref(&self, ref_bytes: &[u8]) -> Result<Option<(i64, i64)>>;

    /// Inserts a user unless one with this ref exists; (id, inserted).
    fn insert_user(
        &self,
        ref_bytes: &[u8],
        sealed_handle: &[u8],
        wrapped_key: &[u8],
        created_ms: i64,
    ) -> Result<(i64, bool)>;

    /// Every user row, by id.
    fn user_rows(&self) -> Result<Vec<UserRow>>;

    /// The row of user `id`.
    fn user_row(&self, id: i64) -> Result<Option<UserRow>>;

    /// The (ref, wrapped data key) of user `id`.
    fn user_wrapped_key(&self, id: i64) -> Result<Option<(Vec<u8>, Vec<u8>)>>;

    /// Deletes every row about user `id` (samples, staging, consents,
    /// versions, capabilities, tokens, web links and sessions, storage),
    /// the user row with the wrapped key last.
    fn delete_user_rows(&self, id: i64) -> Result<ErasedRows>;

    /// After an erase, makes the deleted rows unrecoverable from the
    /// database's own files (outside any transaction); an error says what
    /// may remain.
    fn reclaim_erased(&self, user_ref: &str) -> Result<()>;

    /// Calls `each` with every stored chunk of `user_id` (type code, day,
    /// sealed), by type code.
    fn chunk_each_of_user(&self, user_id: i64, each: &mut EachChunk<'_>) -> Result<()>;

    // --- access tokens (the secret is never stored, only its keyed hash) ---

    /// Whether a token has this id.
    fn token_id_taken(&self, id: &str) -> Result<bool>;

    /// Inserts a token row (authenticated).
    fn insert_token(&self, token: &TokenInsert<'_>) -> Result<()>;

    /// The token rows of a user (every user's when `None`), oldest first.
    fn token_rows(&self, user_id: Option<i64>) -> Result<Vec<StoredToken>>;

    /// The token row with this id.
    fn token_row(&self, id: &str) -> Result<Option<StoredToken>>;

    /// Marks a token revoked.
    fn set_token_revoked(&self, id: &str, now_ms: i64) -> Result<()>;

    /// The token whose secret has this keyed hash, with its user's row:
    /// runs on every request, so one indexed lookup that never writes.
    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenHit>>;

    // --- web sign-in links and sessions (secrets stored as keyed hashes) ---

    /// Whether a row of `kind` has this id.
    fn web_id_taken(&self, kind: WebKind, id: &str) -> Result<bool>;

    /// Inserts a link or session row (authenticated).
    fn insert_web(&self, kind: WebKind, row: &WebInsert<'_>) -> Result<()>;

    /// The row of `kind` whose secret has this keyed hash, with its user's
    /// row; one lookup, no write.
    fn web_by_hash(&self, kind: WebKind, hash: &[u8]) -> Result<Option<WebHit>>;

    /// Closes the open row `id` (a link used, a session ended); false when
    /// it was closed already.
    fn close_web(&self, kind: WebKind, id: &str, now_ms: i64) -> Result<bool>;

    /// Deletes links and sessions that ended before `cutoff_ms`; how many.
    fn sweep_web(&self, cutoff_ms: i64) -> Result<usize>;

    // --- users' zones and trusted reviewers ---------------------------------

    /// The sealed time zone of `user_id`, if one was set.
    fn sealed_zone(&self, user_id: i64) -> Result<Option<Vec<u8>>>;

    /// Stores the sealed time zone of `user_id`.
    fn put_zone(&self, user_id: i64, sealed: &[u8]) -> Result<()>;

    /// Every trusted reviewer, by name (rows authenticated).
    fn reviewers(&self) -> Result<Vec<Reviewer>>;

    /// Trusts a reviewer (replacing a row with the same key).
    fn put_reviewer(&self, reviewer: &Reviewer) -> Result<()>;

    /// Stops trusting a reviewer key.
    fn delete_reviewer(&self, public_key: &str) -> Result<()>;

    // --- audit -------------------------------------------------------------

    /// The chain's head: the last entry's sequence number and hash.
    fn audit_head(&self) -> Result<Option<(i64, String)>>;

    /// Appends one entry to the hash chain; its sequence number. Inside a
    /// `Vault::write` the new head is anchored before the commit.
    fn audit_append(&self, event: &AuditEvent) -> Result<i64>;

    /// Verifies the chain, its authenticated head, and the head against
    /// the anchor file outside the database.
    fn audit_verify(&self, anchor: &std::path::Path) -> Result<VerifyReport>;

    /// The entries of one user (by ref), or all.
    fn audit_list(&self, user_ref: Option<&str>) -> Result<Vec<AuditEntry>>;
}

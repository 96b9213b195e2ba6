//! The SQLite backend of the storage trait: each operation of [`Store`]
//! on one pooled connection or inside one immediate transaction, through
//! the table modules beside it (`consents.rs`, `capabilities.rs`,
//! `plugins.rs`, `storage.rs`, `chunks.rs`, `samples.rs`, `audit.rs`),
//! whose rows carry MACs checked inside SQLite (`rowmac.rs`).

use std::ops::Deref;

use anyhow::Result;
use rusqlite::Connection;

use super::audit::{self, AuditEntry, AuditEvent, VerifyReport};
use super::capabilities::{self, CapabilityGrant};
use super::plugins::{self, PluginRecord};

use super::storage::{SealedEntry, Usage};
use super::storage_sql;
use super::store::{EachChunk, Store};
use super::tokens::{StoredToken, TokenHit, TokenInsert};
use super::tokens_sql;
use super::trust::{self, Reviewer};
use super::users::{self, ErasedRows, UserRow};
use super::web::{WebHit, WebInsert, WebKind};
use super::web_sql;
use super::{DerivedKeys, chunks_sql, consents, zones};
use crate::consent::{Capability, CapabilityScope, UserGrant};
use crate::registry::DataType;

/// [`Store`] over a SQLite connection (`C` is a pooled connection or a
/// borrowed transaction).
pub(crate) struct SqliteStore<'k, C: Deref<Target = Connection>> {
    pub(crate) conn: C,
    pub(crate) keys: &'k DerivedKeys,
}

impl<C: Deref<Target = Connection>> Store for SqliteStore<'_, C> {
    fn consent_version(&self, user_id: i64, plugin: &str) -> Result<i64> {
        consents::version(&self.conn, user_id, plugin)
    }

    fn consent_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<UserGrant>> {
        consents::grants(&self.conn, user_id, plugin)
    }

    fn put_consents(&self, user_id: i64, plugin: &str, grants: &[UserGrant]) -> Result<()> {
        consents::put(&self.conn, user_id, plugin, grants)
    }

    fn revoke_consents(
        &self,
        user_id: i64,
        plugin: &str,
        types: Option<&[DataType]>,
        now_ms: i64,
    ) -> Result<Vec<DataType>> {
        consents::revoke(&self.conn, user_id, plugin, types, now_ms)
    }

    fn bump_consent(&self, user_id: i64, plugin: &str) -> Result<()> {
        consents::bump(&self.conn, user_id, plugin)
    }

    fn consented_manifest(&self, user_id: i64, plugin: &str) -> Result<Option<String>> {
        consents::consented_manifest(&self.conn, user_id, plugin)
    }

    fn set_consented_manifest(&self, user_id: i64, plugin: &str, sha256: &str) -> Result<()> {
        consents::set_consented_manifest(&self.conn, user_id, plugin, sha256)
    }

    fn consents_of_user(&self, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
        consents::of_user(&self.conn, user_id)
    }

    fn capability_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<CapabilityGrant>> {
        capabilities::list(&self.conn, user_id, plugin)
    }

    fn active_capability(&self, user_id: i64, plugin: &str, capability: Capability) -> Result<Option<CapabilityScope>> {
        capabilities::active(&self.conn, user_id, plugin, capability)
    }

    fn put_capability(&self, user_id: i64, plugin: &str, scope: &CapabilityScope, now_ms: i64) -> Result<()> {
        capabilities::put(&self.conn, user_id, plugin, scope, now_ms)?;
        consents::bump(&self.conn, user_id, plugin)
    }

    fn revoke_capabilities(
        &self,
        user_id: i64,
        plugin: &str,
        only: Option<Capability>,
        now_ms: i64,
    ) -> Result<Vec<Capability>> {
        let revoked = capabilities::revoke(&self.conn, user_id, plugin, only, now_ms)?;
        if !revoked.is_empty() {
            consents::bump(&self.conn, user_id, plugin)?;
        }
        Ok(revoked)
    }

    fn upsert_plugin(&self, record: &PluginRecord) -> Result<()> {
        plugins::upsert(&self.conn, record)
    }

    fn delete_plugin(&self, id: &str) -> Result<bool> {
        plugins::delete(&self.conn, id)
    }

    fn manifest_by_sha(&self, sha256: &str) -> Result<Option<String>> {
        plugins::manifest_by_sha(&self.conn, sha256)
    }

    fn plugins(&self) -> Result<Vec<PluginRecord>> {
        plugins::all(&self.conn)
    }

    fn plugin(&self, id: &str) -> Result<Option<PluginRecord>> {
        plugins::by_id(&self.conn, id)
    }

    fn kv_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        storage_sql::sealed(&self.conn, user_id, plugin, key_mac)
    }

    fn kv_size(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<u64>> {
        storage_sql::size(&self.conn, user_id, plugin, key_mac)
    }

    fn kv_sealed_keys(&self, user_id: i64, plugin: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        storage_sql::sealed_keys(&self.conn, user_id, plugin)
    }

    fn kv_put_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8], entry: Option<SealedEntry<'_>>) -> Result<()> {
        storage_sql::put(&self.conn, user_id, plugin, key_mac, entry)
    }

    fn kv_usage(&self, user_id: i64, plugin: &str) -> Result<Usage> {
        storage_sql::usage(&self.conn, user_id, plugin)
    }

    fn kv_delete_all(&self, user_id: i64, plugin: Option<&str>) -> Result<u64> {
        storage_sql::delete_all(&self.conn, user_id, plugin)
    }

    fn chunk_next_day(&self, user_id: i64, ty: u8, days: (i64, i64)) -> Result<Option<i64>> {
        chunks_sql::next_day(&self.conn, user_id, ty, days)
    }

    fn chunk_sealed(&self, user_id: i64, ty: u8, day: i64) -> Result<Option<Vec<u8>>> {
        chunks_sql::sealed(&self.conn, user_id, ty, day)
    }

    fn chunk_each_sealed(
        &self,
        user_id: i64,
        ty: u8,
        days: (i64, i64),
        each: &mut dyn FnMut(i64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        chunks_sql::each_sealed(&self.conn, user_id, ty, days, each)
    }

    fn put_chunk(&self, user_id: i64, ty: u8, day: i64, sealed: &[u8]) -> Result<()> {
        chunks_sql::put(&self.conn, user_id, ty, day, sealed)
    }

    fn put_staged(&self, invocation: &str, user_id: i64, at: (u8, i64), sealed: &[u8], staged_ms: i64) -> Result<()> {
        chunks_sql::put_staged(&self.conn, invocation, user_id, at, sealed, staged_ms)
    }

    fn staged_days(&self, invocation: &str, user_id: i64) -> Result<Vec<(u8, i64)>> {
        chunks_sql::staged_days(&self.conn, invocation, user_id)
    }

    fn staged_sealed(&self, invocation: &str, user_id: i64, at: (u8, i64)) -> Result<Vec<Vec<u8>>> {
        chunks_sql::staged_sealed(&self.conn, invocation, user_id, at)
    }

    fn discard_staged(&self, invocation: &str) -> Result<u64> {
        chunks_sql::discard_staged(&self.conn, invocation)
    }

    fn user_by_ref(&self, ref_bytes: &[u8]) -> Result<Option<(i64, i64)>> {
        users::by_ref(&self.conn, ref_bytes)
    }

    fn insert_user(
        &self,
        ref_bytes: &[u8],
        sealed_handle: &[u8],
        wrapped_key: &[u8],
        created_ms: i64,
    ) -> Result<(i64, bool)> {
        users::insert(&self.conn, ref_bytes, sealed_handle, wrapped_key, created_ms)
    }

    fn user_rows(&self) -> Result<Vec<UserRow>> {
        users::rows(&self.conn)
    }

    fn user_row(&self, id: i64) -> Result<Option<UserRow>> {
        users::row(&self.conn, id)
    }

    fn user_wrapped_key(&self, id: i64) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        users::wrapped_key(&self.conn, id)
    }

    fn delete_user_rows(&self, id: i64) -> Result<ErasedRows> {
        users::delete_rows(&self.conn, id)
    }

    fn reclaim_erased(&self, user_ref: &str) -> Result<()> {
        users::checkpoint(&self.conn, user_ref)
    }

    fn chunk_each_of_user(&self, user_id: i64, each: &mut EachChunk<'_>) -> Result<()> {
        chunks_sql::each_of_user(&self.conn, user_id, each)
    }

    fn token_id_taken(&self, id: &str) -> Result<bool> {
        tokens_sql::id_taken(&self.conn, id)
    }

    fn insert_token(&self, token: &TokenInsert<'_>) -> Result<()> {
        tokens_sql::insert(&self.conn, token)
    }

    fn token_rows(&self, user_id: Option<i64>) -> Result<Vec<StoredToken>> {
        tokens_sql::list(&self.conn, user_id)
    }

    fn token_row(&self, id: &str) -> Result<Option<StoredToken>> {
        tokens_sql::by_id(&self.conn, id)
    }

    fn set_token_revoked(&self, id: &str, now_ms: i64) -> Result<()> {
        tokens_sql::set_revoked(&self.conn, id, now_ms)
    }

    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenHit>> {
        tokens_sql::by_hash(&self.conn, hash)
    }

    fn web_id_taken(&self, kind: WebKind, id: &str) -> Result<bool> {
        web_sql::id_taken(&self.conn, kind, id)
    }

    fn insert_web(&self, kind: WebKind, row: &WebInsert<'_>) -> Result<()> {
        web_sql::insert(&self.conn, kind, row)
    }

    fn web_by_hash(&self, kind: WebKind, hash: &[u8]) -> Result<Option<WebHit>> {
        web_sql::by_hash(&self.conn, kind, hash)
    }

    fn close_web(&self, kind: WebKind, id: &str, now_ms: i64) -> Result<bool> {
        web_sql::close(&self.conn, kind, id, now_ms)
    }

    fn sweep_web(&self, cutoff_ms: i64) -> Result<usize> {
        web_sql::sweep(&self.conn, cutoff_ms)
    }

    fn sealed_zone(&self, user_id: i64) -> Result<Option<Vec<u8>>> {
        zones::get(&self.conn, user_id)
    }

    fn put_zone(&self, user_id: i64, sealed: &[u8]) -> Result<()> {
        zones::put(&self.conn, user_id, sealed)
    }

    fn reviewers(&self) -> Result<Vec<Reviewer>> {
        trust::list(&self.conn)
    }

    fn put_reviewer(&self, reviewer: &Reviewer) -> Result<()> {
        trust::put(&self.conn, reviewer)
    }

    fn delete_reviewer(&self, public_key: &str) -> Result<()> {
        trust::delete(&self.conn, public_key)
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>> {
        audit::head(&self.conn)
    }

    fn audit_append(&self, event: &AuditEvent) -> Result<i64> {
        audit::append(&self.conn, self.keys, event)
    }

    fn audit_verify(&self, anchor: &std::path::Path) -> Result<VerifyReport> {
        audit::verify(&self.conn, self.keys, anchor)
    }

    fn audit_list(&self, user_ref: Option<&str>) -> Result<Vec<AuditEntry>> {
        audit::list(&self.conn, user_ref)
    }
}

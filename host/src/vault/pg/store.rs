//! The PostgreSQL backend of the storage trait: each operation of
//! [`Store`] on one pooled connection or inside one transaction, through
//! the modules beside it (`grants.rs`, `catalog.rs`, `data.rs`, `auth.rs`,
//! `audit.rs`). Consent versions read outside a transaction come from the
//! host's cache when it is fresh (`versions.rs`).

use std::cell::RefCell;
use std::path::Path;

use anyhow::Result;

use super::versions::VersionCache;
use super::{Db, audit, auth, catalog, data, grants};
use crate::consent::{Capability, CapabilityScope, UserGrant};
use crate::registry::DataType;
use crate::vault::DerivedKeys;
use crate::vault::audit::{AuditEntry, AuditEvent, VerifyReport};
use crate::vault::capabilities::CapabilityGrant;
use crate::vault::plugins::PluginRecord;
use crate::vault::storage::{SealedEntry, Usage};
use crate::vault::store::{EachChunk, Store};
use crate::vault::tokens::{StoredToken, TokenHit, TokenInsert};
use crate::vault::trust::Reviewer;
use crate::vault::users::{ErasedRows, UserRow};
use crate::vault::web::{WebHit, WebInsert, WebKind};

/// What a committed transaction leaves the host to do: the (user, plugin)
/// versions it bumped, the audit head it appended.
pub(super) type Finished = (Vec<(i64, String)>, Option<(i64, String)>);

/// [`Store`] over a PostgreSQL connection or transaction.
pub(super) struct PgStore<'a> {
    db: Db<'a>,
    keys: &'a DerivedKeys,
    versions: &'a VersionCache,
    /// The (user, plugin) pairs whose version this transaction bumped.
    touched: RefCell<Vec<(i64, String)>>,
    /// The last audit head this transaction appended.
    appended: RefCell<Option<(i64, String)>>,
}

impl<'a> PgStore<'a> {
    pub(super) fn new(db: Db<'a>, keys: &'a DerivedKeys, versions: &'a VersionCache) -> PgStore<'a> {
        PgStore {
            db,
            keys,
            versions,
            touched: RefCell::new(Vec::new()),
            appended: RefCell::new(None),
        }
    }

    /// What the transaction changed that the host must act on after the
    /// commit: the versions it bumped, the audit head it appended.
    pub(super) fn finish(self) -> Finished {
        (self.touched.into_inner(), self.appended.into_inner())
    }

    fn bumped(&self, user_id: i64, plugin: &str) {
        let pair = (user_id, plugin.to_string());
        self.versions.forget(std::slice::from_ref(&pair));
        self.touched.borrow_mut().push(pair);
    }
}

impl Store for PgStore<'_> {
    fn consent_version(&self, user_id: i64, plugin: &str) -> Result<i64> {
        let cached = !self.db.in_transaction();
        if cached && let Some(v) = self.versions.get(user_id, plugin) {
            return Ok(v);
        }
        let generation = self.versions.generation();
        let version = grants::version_row(&self.db, self.keys, user_id, plugin)?.map_or(0, |(v, _)| v);
        if cached {
            self.versions.put(user_id, plugin, version, generation);
        }
        Ok(version)
    }

    fn consent_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<UserGrant>> {
        grants::grants(&self.db, self.keys, user_id, plugin)
    }

    fn put_consents(&self, user_id: i64, plugin: &str, g: &[UserGrant]) -> Result<()> {
        grants::put(&self.db, self.keys, user_id, plugin, g)?;
        self.bumped(user_id, plugin);
        Ok(())
    }

    fn revoke_consents(
        &self,
        user_id: i64,
        plugin: &str,
        types: Option<&[DataType]>,
        now_ms: i64,
    ) -> Result<Vec<DataType>> {
        let revoked = grants::revoke(&self.db, self.keys, (user_id, plugin), types, now_ms)?;
        self.bumped(user_id, plugin);
        Ok(revoked)
    }

    fn bump_consent(&self, user_id: i64, plugin: &str) -> Result<()> {
        grants::bump(&self.db, self.keys, user_id, plugin)?;
        self.bumped(user_id, plugin);
        Ok(())
    }

    fn consented_manifest(&self, user_id: i64, plugin: &str) -> Result<Option<String>> {
        Ok(grants::version_row(&self.db, self.keys, user_id, plugin)?.and_then(|(_, m)| m))
    }

    fn set_consented_manifest(&self, user_id: i64, plugin: &str, sha256: &str) -> Result<()> {
        grants::set_consented_manifest(&self.db, self.keys, user_id, plugin, sha256)
    }

    fn consents_of_user(&self, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
        grants::of_user(&self.db, self.keys, user_id)
    }

    fn capability_grants(&self, user_id: i64, plugin: &str) -> Result<Vec<CapabilityGrant>> {
        grants::capability_list(&self.db, self.keys, user_id, plugin)
    }

    fn active_capability(&self, user_id: i64, plugin: &str, capability: Capability) -> Result<Option<CapabilityScope>> {
        grants::active_capability(&self.db, self.keys, user_id, plugin, capability)
    }

    fn put_capability(&self, user_id: i64, plugin: &str, scope: &CapabilityScope, now_ms: i64) -> Result<()> {
        let grant = CapabilityGrant {
            capability: scope.capability(),
            scope: scope.clone(),
            granted_ms: now_ms,
            revoked_ms: None,
        };
        grants::put_capability_row(&self.db, self.keys, user_id, plugin, &grant)?;
        self.bump_consent(user_id, plugin)
    }

    fn revoke_capabilities(
        &self,
        user_id: i64,
        plugin: &str,
        only: Option<Capability>,
        now_ms: i64,
    ) -> Result<Vec<Capability>> {
        let mut out = Vec::new();
        for g in grants::capability_list(&self.db, self.keys, user_id, plugin)? {
            if g.revoked_ms.is_none() && only.is_none_or(|c| c == g.capability) {
                out.push(g.capability);
                let g = CapabilityGrant {
                    revoked_ms: Some(now_ms),
                    ..g
                };
                grants::put_capability_row(&self.db, self.keys, user_id, plugin, &g)?;
            }
        }
        if !out.is_empty() {
            self.bump_consent(user_id, plugin)?;
        }
        Ok(out)
    }

    fn upsert_plugin(&self, record: &PluginRecord) -> Result<()> {
        catalog::upsert(&self.db, self.keys, record)
    }

    fn delete_plugin(&self, id: &str) -> Result<bool> {
        catalog::delete(&self.db, id)
    }

    fn manifest_by_sha(&self, sha256: &str) -> Result<Option<String>> {
        catalog::manifest_by_sha(&self.db, sha256)
    }

    fn plugins(&self) -> Result<Vec<PluginRecord>> {
        catalog::all(&self.db, self.keys)
    }

    fn plugin(&self, id: &str) -> Result<Option<PluginRecord>> {
        catalog::by_id(&self.db, self.keys, id)
    }

    fn component_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        catalog::component(&self.db, sha256)
    }

    fn put_component_bytes(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        catalog::put_component(&self.db, sha256, bytes)
    }

    fn kv_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        data::kv_sealed(&self.db, user_id, plugin, key_mac)
    }

    fn kv_size(&self, user_id: i64, plugin: &str, key_mac: &[u8]) -> Result<Option<u64>> {
        data::kv_size(&self.db, user_id, plugin, key_mac)
    }

    fn kv_sealed_keys(&self, user_id: i64, plugin: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        data::kv_sealed_keys(&self.db, user_id, plugin)
    }

    fn kv_put_sealed(&self, user_id: i64, plugin: &str, key_mac: &[u8], entry: Option<SealedEntry<'_>>) -> Result<()> {
        data::kv_put(&self.db, user_id, plugin, key_mac, entry)
    }

    fn kv_usage(&self, user_id: i64, plugin: &str) -> Result<Usage> {
        data::kv_usage(&self.db, user_id, plugin)
    }

    fn kv_delete_all(&self, user_id: i64, plugin: Option<&str>) -> Result<u64> {
        data::kv_delete_all(&self.db, user_id, plugin)
    }

    fn chunk_next_day(&self, user_id: i64, ty: u8, days: (i64, i64)) -> Result<Option<i64>> {
        data::chunk_next_day(&self.db, user_id, ty, days)
    }

    fn chunk_sealed(&self, user_id: i64, ty: u8, day: i64) -> Result<Option<Vec<u8>>> {
        data::chunk_sealed(&self.db, user_id, ty, day)
    }

    fn chunk_each_sealed(
        &self,
        user_id: i64,
        ty: u8,
        days: (i64, i64),
        each: &mut dyn FnMut(i64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        data::chunk_each_sealed(&self.db, user_id, ty, days, each)
    }

    fn put_chunk(&self, user_id: i64, ty: u8, day: i64, sealed: &[u8]) -> Result<()> {
        data::put_chunk(&self.db, user_id, ty, day, sealed)
    }

    fn put_staged(&self, invocation: &str, user_id: i64, at: (u8, i64), sealed: &[u8], staged_ms: i64) -> Result<()> {
        data::put_staged(&self.db, invocation, user_id, at, sealed, staged_ms)
    }

    fn staged_days(&self, invocation: &str, user_id: i64) -> Result<Vec<(u8, i64)>> {
        data::staged_days(&self.db, invocation, user_id)
    }

    fn staged_sealed(&self, invocation: &str, user_id: i64, at: (u8, i64)) -> Result<Vec<Vec<u8>>> {
        data::staged_sealed(&self.db, invocation, user_id, at)
    }

    fn discard_staged(&self, invocation: &str) -> Result<u64> {
        data::discard_staged(&self.db, invocation)
    }

    fn user_by_ref(&self, ref_bytes: &[u8]) -> Result<Option<(i64, i64)>> {
        data::user_by_ref(&self.db, ref_bytes)
    }

    fn insert_user(&self, ref_bytes: &[u8], sealed: &[u8], wrapped: &[u8], created_ms: i64) -> Result<(i64, bool)> {
        data::insert_user(&self.db, ref_bytes, sealed, wrapped, created_ms)
    }

    fn user_rows(&self) -> Result<Vec<UserRow>> {
        data::user_rows(&self.db)
    }

    fn user_row(&self, id: i64) -> Result<Option<UserRow>> {
        data::user_row_by_id(&self.db, id)
    }

    fn user_wrapped_key(&self, id: i64) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        data::user_wrapped_key(&self.db, id)
    }

    fn delete_user_rows(&self, id: i64) -> Result<ErasedRows> {
        data::delete_user_rows(&self.db, id)
    }

    fn reclaim_erased(&self, _user_ref: &str) -> Result<()> {
        data::reclaim_erased(&self.db)
    }

    fn chunk_each_of_user(&self, user_id: i64, each: &mut EachChunk<'_>) -> Result<()> {
        data::chunk_each_of_user(&self.db, user_id, each)
    }

    fn token_id_taken(&self, id: &str) -> Result<bool> {
        auth::token_id_taken(&self.db, id)
    }

    fn insert_token(&self, token: &TokenInsert<'_>) -> Result<()> {
        auth::insert_token(&self.db, self.keys, token)
    }

    fn token_rows(&self, user_id: Option<i64>) -> Result<Vec<StoredToken>> {
        auth::token_rows(&self.db, self.keys, user_id)
    }

    fn token_row(&self, id: &str) -> Result<Option<StoredToken>> {
        auth::token_row(&self.db, self.keys, id)
    }

    fn set_token_revoked(&self, id: &str, now_ms: i64) -> Result<()> {
        auth::set_token_revoked(&self.db, self.keys, id, now_ms)
    }

    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenHit>> {
        auth::token_by_hash(&self.db, self.keys, hash)
    }

    fn web_id_taken(&self, kind: WebKind, id: &str) -> Result<bool> {
        auth::web_id_taken(&self.db, kind, id)
    }

    fn insert_web(&self, kind: WebKind, row: &WebInsert<'_>) -> Result<()> {
        auth::insert_web(&self.db, self.keys, kind, row)
    }

    fn web_by_hash(&self, kind: WebKind, hash: &[u8]) -> Result<Option<WebHit>> {
        auth::web_by_hash(&self.db, self.keys, kind, hash)
    }

    fn close_web(&self, kind: WebKind, id: &str, now_ms: i64) -> Result<bool> {
        auth::close_web(&self.db, self.keys, kind, id, now_ms)
    }

    fn sweep_web(&self, cutoff_ms: i64) -> Result<usize> {
        auth::sweep_web(&self.db, cutoff_ms)
    }

    fn sealed_zone(&self, user_id: i64) -> Result<Option<Vec<u8>>> {
        data::sealed_zone(&self.db, user_id)
    }

    fn put_zone(&self, user_id: i64, sealed: &[u8]) -> Result<()> {
        data::put_zone(&self.db, user_id, sealed)
    }

    fn reviewers(&self) -> Result<Vec<Reviewer>> {
        catalog::reviewers(&self.db, self.keys)
    }

    fn put_reviewer(&self, reviewer: &Reviewer) -> Result<()> {
        catalog::put_reviewer(&self.db, self.keys, reviewer)
    }

    fn delete_reviewer(&self, public_key: &str) -> Result<()> {
        self.db
            .exec("DELETE FROM trusted_reviewers WHERE public_key = $1", &[&public_key])?;
        Ok(())
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>> {
        audit::head(&self.db)
    }

    fn audit_append(&self, event: &AuditEvent) -> Result<i64> {
        let (seq, hash) = audit::append(&self.db, self.keys, event)?;
        *self.appended.borrow_mut() = Some((seq, hash));
        Ok(seq)
    }

    fn audit_verify(&self, anchor: &Path) -> Result<VerifyReport> {
        audit::verify(&self.db, self.keys, anchor)
    }

    fn audit_list(&self, user_ref: Option<&str>) -> Result<Vec<AuditEntry>> {
        audit::list(&self.db, user_ref)
    }
}

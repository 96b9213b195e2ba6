//! Effective access = manifest request ∩ user grant ∩ platform policy.
//!
//! Pure and unit tested, like Zed's capability granter: a type is visible
//! only when the manifest requests it *and* the user granted it, and then
//! only as far as both allow. Computed once per invocation into a
//! [`GrantSet`] and re-checked on every host call.

use serde::Serialize;

use super::{Fields, Granularity};
use crate::registry::DataType;

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;

/// What a manifest requests for one data type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeRequest {
    /// The type.
    pub data_type: DataType,
    /// Asks to read it.
    pub read: bool,
    /// Asks to write it.
    pub write: bool,
    /// The fields it asks for.
    pub fields: Fields,
    /// The longest history it asks for, in days (`None`: all history).
    pub days: Option<u32>,
    /// The finest granularity it asks for.
    pub granularity: Granularity,
    /// Why it asks.
    pub purpose: String,
}

/// What a user granted one plugin for one type (a consent row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserGrant {
    /// The type.
    pub data_type: DataType,
    /// May read.
    pub read: bool,
    /// May write.
    pub write: bool,
    /// Fields granted.
    pub fields: Fields,
    /// Rolling history window in days.
    pub days: Option<u32>,
    /// Fixed start of the visible history (ms since epoch).
    pub since_ms: Option<i64>,
    /// Finest granularity granted.
    pub granularity: Granularity,
    /// When the grant ends (ms since epoch).
    pub until_ms: Option<i64>,
    /// The purpose shown when the user granted.
    pub purpose: String,
    /// When it was granted.
    pub granted_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
}

/// Limits the platform puts on every plugin's data access, whatever
/// users grant. (Egress caps are the network layer's `NetworkPolicy`.)
#[derive(Clone, Debug)]
pub struct PlatformPolicy {
    /// No plugin sees further back than this many days.
    pub max_history_days: Option<u32>,
}

impl Default for PlatformPolicy {
    fn default() -> PlatformPolicy {
        PlatformPolicy {
            max_history_days: Some(3650),
        }
    }
}

/// What a plugin may actually do with one type for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveGrant {
    /// The type.
    pub data_type: DataType,
    /// May read.
    pub read: bool,
    /// May write.
    pub write: bool,
    /// Fields visible.
    pub fields: Fields,
    /// Finest granularity visible.
    pub granularity: Granularity,
    /// Rolling window in days.
    pub window_days: Option<u32>,
    /// Fixed start of the visible history.
    pub since_ms: Option<i64>,
    /// When access ends.
    pub expires_ms: Option<i64>,
    /// The purpose the user agreed to.
    pub purpose: String,
}

impl EffectiveGrant {
    /// The earliest visible sample start at time `now`.
    pub fn visible_from(&self, now_ms: i64) -> Option<i64> {
        let rolling = self
            .window_days
            .map(|d| now_ms.saturating_sub(i64::from(d).saturating_mul(DAY_MS)));
        match (rolling, self.since_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// True when the grant has ended at `now`.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires_ms.is_some_and(|t| t <= now_ms)
    }
}

/// Why access was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenialReason {
    /// The manifest does not request this type or access.
    NotRequested,
    /// The user has not granted it.
    NotGranted,
    /// The user revoked it.
    Revoked,
    /// The grant expired.
    Expired,
    /// Only aggregates are granted.
    AggregatesOnly,
    /// The aggregate asked for is finer than granted.
    GranularityTooFine,
    /// Writing is not granted.
    WriteNotGranted,
    /// A field the operation needs is not granted.
    FieldNotGranted,
}

impl DenialReason {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            DenialReason::NotRequested => "not-requested",
            DenialReason::NotGranted => "not-granted",
            DenialReason::Revoked => "revoked",
            DenialReason::Expired => "expired",
            DenialReason::AggregatesOnly => "aggregates-only",
            DenialReason::GranularityTooFine => "granularity-too-fine",
            DenialReason::WriteNotGranted => "write-not-granted",
            DenialReason::FieldNotGranted => "field-not-granted",
        }
    }
}

/// A refused access to one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// The type.
    pub data_type: DataType,
    /// Why.
    pub reason: DenialReason,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    request: Option<TypeRequest>,
    grant: Option<UserGrant>,
    effective: Option<EffectiveGrant>,
}

/// The grants of one plugin for one user, indexed by type (empty until
/// computed: every invocation starts with one, so it must cost nothing).
#[derive(Clone, Debug)]
pub struct GrantSet {
    entries: Vec<Entry>,
}

/// The entry of a type nothing was requested or granted for.
const NOTHING: Entry = Entry {
    request: None,
    grant: None,
    effective: None,
};

impl GrantSet {
    /// An empty set: everything refused as not requested.
    pub fn empty() -> GrantSet {
        GrantSet { entries: Vec::new() }
    }

    /// Computes effective access from the manifest's requests, the user's
    /// grants and platform policy.
    pub fn compute(requests: &[TypeRequest], grants: &[UserGrant], policy: &PlatformPolicy) -> GrantSet {
        let mut set = GrantSet {
            entries: vec![Entry::default(); DataType::COUNT],
        };
        for r in requests {
            set.entries[usize::from(r.data_type.code())].request = Some(r.clone());
        }
        for g in grants {
            set.entries[usize::from(g.data_type.code())].grant = Some(g.clone());
        }
        for entry in &mut set.entries {
            entry.effective = effective(entry.request.as_ref(), entry.grant.as_ref(), policy);
        }
        set
    }

    fn entry(&self, ty: DataType) -> &Entry {
        self.entries.get(usize::from(ty.code())).unwrap_or(&NOTHING)
    }

    /// The grant row for `ty`, if any (revoked rows included).
    pub fn user_grant(&self, ty: DataType) -> Option<&UserGrant> {
        self.entry(ty).grant.as_ref()
    }

    fn refusal(&self, ty: DataType, now_ms: i64, requested: bool) -> Option<DenialReason> {
        let entry = self.entry(ty);
        if !requested {
            return Some(DenialReason::NotRequested);
        }
        let Some(grant) = &entry.grant else {
            return Some(DenialReason::NotGranted);
        };
        if grant.revoked_ms.is_some() {
            return Some(DenialReason::Revoked);
        }
        if grant.until_ms.is_some_and(|t| t <= now_ms) {
            return Some(DenialReason::Expired);
        }
        None
    }

    /// Checks reading `ty` at `wanted` granularity (`Raw` for samples).
    pub fn check_read(&self, ty: DataType, now_ms: i64, wanted: Granularity) -> Result<&EffectiveGrant, Denial> {
        let deny = |reason| Denial { data_type: ty, reason };
        let requested = self.entry(ty).request.as_ref().is_some_and(|r| r.read);
        if let Some(reason) = self.refusal(ty, now_ms, requested) {
            return Err(deny(reason));
        }
        let eff = match &self.entry(ty).effective {
            Some(eff) if eff.read => eff,
            _ => return Err(deny(DenialReason::NotGranted)),
        };
        if wanted < eff.granularity {
            return Err(deny(if wanted == Granularity::Raw {
                DenialReason::AggregatesOnly
            } else {
                DenialReason::GranularityTooFine
            }));
        }
        Ok(eff)
    }

    /// Checks writing `ty`.
    pub fn check_write(&self, ty: DataType, now_ms: i64) -> Result<&EffectiveGrant, Denial> {
        let deny = |reason| Denial { data_type: ty, reason };
        let requested = self.entry(ty).request.as_ref().is_some_and(|r| r.write);
        if let Some(reason) = self.refusal(ty, now_ms, requested) {
            return Err(deny(reason));
        }
        match &self.entry(ty).effective {
            Some(eff) if eff.write => Ok(eff),
            _ => Err(deny(DenialReason::WriteNotGranted)),
        }
    }

    /// Every grant in force at `now`.
    pub fn in_force(&self, now_ms: i64) -> impl Iterator<Item = &EffectiveGrant> {
        self.entries
            .iter()
            .filter_map(|e| e.effective.as_ref())
            .filter(move |g| !g.expired(now_ms) && (g.read || g.write))
    }
}

fn min_days(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn effective(
    request: Option<&TypeRequest>,
    grant: Option<&UserGrant>,
    policy: &PlatformPolicy,
) -> Option<EffectiveGrant> {
    let (request, grant) = (request?, grant?);
    if grant.revoked_ms.is_some() {
        return None;
    }
    let read = request.read && grant.read;
    let write = request.write && grant.write;
    if !read && !write {
        return None;
    }
    Some(EffectiveGrant {
        data_type: request.data_type,
        read,
        write,
        fields: request.fields.intersect(grant.fields),
        granularity: request.granularity.max(grant.granularity),
        window_days: min_days(min_days(request.days, grant.days), policy.max_history_days),
        since_ms: grant.since_ms,
        expires_ms: grant.until_ms,
        purpose: request.purpose.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(id: &str) -> DataType {
        DataType::from_id(id).unwrap()
    }

    fn request(id: &str) -> TypeRequest {
        TypeRequest {
            data_type: ty(id),
            read: true,
            write: false,
            fields: Fields::DEFAULT,
            days: Some(90),
            granularity: Granularity::Raw,
            purpose: "coaching".into(),
        }
    }

    fn grant(id: &str) -> UserGrant {
        UserGrant {
            data_type: ty(id),
            read: true,
            write: false,
            fields: Fields::ALL,
            days: None,
            since_ms: None,
            granularity: Granularity::Raw,
            until_ms: None,
            purpose: "coaching".into(),
            granted_ms: 0,
            revoked_ms: None,
        }
    }

    const NOW: i64 = 1_000 * DAY_MS;

    #[test]
    fn needs_both_request_and_grant() {
        let set = GrantSet::compute(
            &[request("steps")],
            &[grant("steps"), grant("heart-rate")],
            &PlatformPolicy::default(),
        );
        assert!(set.check_read(ty("steps"), NOW, Granularity::Raw).is_ok());
        let denied = set.check_read(ty("heart-rate"), NOW, Granularity::Raw).unwrap_err();
        assert_eq!(denied.reason, DenialReason::NotRequested);
        let set = GrantSet::compute(&[request("steps")], &[], &PlatformPolicy::default());
        assert_eq!(
            set.check_read(ty("steps"), NOW, Granularity::Raw).unwrap_err().reason,
            DenialReason::NotGranted
        );
    }

    #[test]
    fn intersection_takes_the_narrowest_of_everything() {
        let mut g = grant("steps");
        g.fields = Fields::VALUE | Fields::NOTES;
        g.days = Some(30);
        g.granularity = Granularity::Hourly;
        let policy = PlatformPolicy {
            max_history_days: Some(10),
        };
        let set = GrantSet::compute(&[request("steps")], &[g], &policy);
        let eff = set.check_read(ty("steps"), NOW, Granularity::Daily).unwrap();
        assert_eq!(eff.fields, Fields::VALUE, "notes not requested, unit/time not granted");
        assert_eq!(eff.window_days, Some(10));
        assert_eq!(eff.visible_from(NOW), Some(NOW - 10 * DAY_MS));
        assert_eq!(
            set.check_read(ty("steps"), NOW, Granularity::Raw).unwrap_err().reason,
            DenialReason::AggregatesOnly
        );
        assert!(set.check_read(ty("steps"), NOW, Granularity::Hourly).is_ok());
    }

    #[test]
    fn revoked_expired_and_write() {
        let mut revoked = grant("steps");
        revoked.revoked_ms = Some(5);
        let mut expired = grant("heart-rate");
        expired.until_ms = Some(NOW - 1);
        let set = GrantSet::compute(
            &[request("steps"), request("heart-rate")],
            &[revoked, expired],
            &PlatformPolicy::default(),
        );
        assert_eq!(
            set.check_read(ty("steps"), NOW, Granularity::Raw).unwrap_err().reason,
            DenialReason::Revoked
        );
        assert_eq!(
            set.check_read(ty("heart-rate"), NOW, Granularity::Raw)
                .unwrap_err()
                .reason,
            DenialReason::Expired
        );
        assert_eq!(
            set.check_write(ty("steps"), NOW).unwrap_err().reason,
            DenialReason::NotRequested
        );

        let mut wreq = request("body-mass");
        wreq.write = true;
        let set = GrantSet::compute(&[wreq.clone()], &[grant("body-mass")], &PlatformPolicy::default());
        assert_eq!(
            set.check_write(ty("body-mass"), NOW).unwrap_err().reason,
            DenialReason::WriteNotGranted
        );
        let mut wgrant = grant("body-mass");
        wgrant.write = true;
        let set = GrantSet::compute(&[wreq], &[wgrant], &PlatformPolicy::default());
        assert!(set.check_write(ty("body-mass"), NOW).is_ok());
    }

    #[test]
    fn since_and_rolling_window_take_the_later_start() {
        let mut g = grant("steps");
        g.since_ms = Some(NOW - 5 * DAY_MS);
        let set = GrantSet::compute(&[request("steps")], &[g], &PlatformPolicy::default());
        let eff = set.check_read(ty("steps"), NOW, Granularity::Raw).unwrap();
        assert_eq!(eff.visible_from(NOW), Some(NOW - 5 * DAY_MS));
    }
}

//! The consent model: the fields and granularity a grant covers, and the
//! pure computation of effective access from manifest, user grant and
//! platform policy (checked on every host call).

mod calendar;
mod capability;
mod fields;
mod grants;
mod granularity;
#[cfg(test)]
mod properties;

pub use calendar::{BucketWalker, Calendar, UnknownZone};
pub use capability::{Capability, CapabilityScope};
pub use fields::{Fields, UnknownField};
pub use grants::{Denial, DenialReason, EffectiveGrant, GrantSet, PlatformPolicy, TypeRequest, UserGrant};
pub use granularity::Granularity;

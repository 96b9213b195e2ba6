//! Property tests of the grant intersection: whatever the manifest asks,
//! the user grants and the platform allows, effective access never exceeds
//! any of the three, and every refusal names the right reason.

use proptest::prelude::*;

use super::{Fields, GrantSet, Granularity, PlatformPolicy, TypeRequest, UserGrant};
use crate::registry::DataType;

const DAY_MS: i64 = 86_400_000;

fn granularity() -> impl Strategy<Value = Granularity> {
    prop_oneof![
        Just(Granularity::Raw),
        Just(Granularity::Hourly),
        Just(Granularity::Daily)
    ]
}

fn days() -> impl Strategy<Value = Option<u32>> {
    prop::option::of(1u32..5_000)
}

prop_compose! {
    fn request()(code in 0u8..45, read in any::<bool>(), write in any::<bool>(), fields in 0u8..0x80,
                 days in days(), granularity in granularity()) -> TypeRequest {
        TypeRequest {
            data_type: DataType::from_code(code).unwrap_or_else(|| DataType::all().next().unwrap()),
            read,
            write,
            fields: Fields::from_bits(fields),
            days,
            granularity,
            purpose: "a purpose".into(),
        }
    }
}

prop_compose! {
    fn grant()(code in 0u8..45, read in any::<bool>(), write in any::<bool>(), fields in 0u8..0x80,
               days in days(), since in prop::option::of(0i64..4_000_000_000_000),
               granularity in granularity(), until in prop::option::of(0i64..4_000_000_000_000),
               revoked in prop::option::of(0i64..4_000_000_000_000)) -> UserGrant {
        UserGrant {
            data_type: DataType::from_code(code).unwrap_or_else(|| DataType::all().next().unwrap()),
            read,
            write,
            fields: Fields::from_bits(fields),
            days,
            since_ms: since,
            granularity,
            until_ms: until,
            purpose: "a purpose".into(),
            granted_ms: 0,
            revoked_ms: revoked,
        }
    }
}

proptest! {
    #[test]
    fn effective_access_never_exceeds_request_grant_or_policy(
        requests in prop::collection::vec(request(), 0..6),
        grants in prop::collection::vec(grant(), 0..6),
        policy_days in days(),
        now in 0i64..4_000_000_000_000,
    ) {
        let policy = PlatformPolicy { max_history_days: policy_days };
        let set = GrantSet::compute(&requests, &grants, &policy);
        for ty in DataType::all() {
            // Later rows for the same type replace earlier ones.
            let req = requests.iter().rev().find(|r| r.data_type == ty);
            let user = grants.iter().rev().find(|g| g.data_type == ty);
            let effective = set.in_force(now).find(|e| e.data_type == ty);
            let Some(e) = effective else {
                prop_assert!(set.check_read(ty, now, Granularity::Daily).is_err() || req.is_none_or(|r| !r.read));
                continue;
            };
            let (Some(req), Some(user)) = (req, user) else {
                return Err(TestCaseError::fail(format!("{ty:?} in force without a request and a grant")));
            };
            prop_assert!(user.revoked_ms.is_none(), "a revoked grant is in force");
            prop_assert!(user.until_ms.is_none_or(|t| t > now), "an expired grant is in force");
            prop_assert!(!e.read || (req.read && user.read));
            prop_assert!(!e.write || (req.write && user.write));
            prop_assert!(req.fields.contains(e.fields) && user.fields.contains(e.fields));
            prop_assert!(e.granularity >= req.granularity && e.granularity >= user.granularity);
            if let Some(from) = e.visible_from(now) {
                for limit in [req.days, user.days, policy_days].into_iter().flatten() {
                    prop_assert!(from >= now - i64::from(limit) * DAY_MS);
                }
                if let Some(since) = user.since_ms {
                    prop_assert!(from >= since);
                }
            } else {
                prop_assert!(req.days.is_none() && user.days.is_none() && policy_days.is_none());
                prop_assert!(user.since_ms.is_none());
            }
            // Raw reads are allowed exactly when both sides allow raw.
            let raw = set.check_read(ty, now, Granularity::Raw);
            prop_assert_eq!(raw.is_ok(), e.read && e.granularity == Granularity::Raw);
            prop_assert_eq!(set.check_write(ty, now).is_ok(), e.write);
        }
    }
}

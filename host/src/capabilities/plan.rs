//! Query planning: turns a plugin's query into per-type time ranges, a
//! field set and a delivery order, or a refusal. Pure (no I/O), so it is
//! property tested.
//!
//! Rules, in order:
//! 1. *Invalid* (the plugin's mistake, whatever it was granted): no type, a
//!    type listed twice, an empty range (`start >= end`), an aggregate of a
//!    coded type.
//! 2. *Denied* (consent): every type must be readable at the granularity
//!    asked; an aggregate needs the `value` field, and an hourly aggregate
//!    also `time` (without it the finest a plugin may learn is the day).
//! 3. Each type's range is clipped to its visible history, then snapped
//!    inward to whole buckets of the user's calendar: to the aggregate's
//!    bucket, or to whole local days for a raw query of a type whose `time`
//!    field is withheld. A partial bucket at either edge is dropped, never
//!    clipped, so no window narrower than a bucket (or bisected across many
//!    calls) reveals anything finer than the grant. Nothing left is an empty
//!    range (no rows), not an error.
//! 4. The fields are the ones requested, intersected with the grant of every
//!    type in the query; without `time` in them, samples are delivered day
//!    by day in an order that carries no time within the day.

use crate::consent::{Calendar, Denial, DenialReason, Fields, GrantSet, Granularity};
use crate::registry::DataType;

/// Why a query cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Consent refuses a type.
    Denied(Denial),
    /// The query is malformed.
    Invalid(String),
}

/// One type's slice of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeRange {
    /// The type.
    pub data_type: DataType,
    /// Start, inclusive (clipped to the visible history, snapped).
    pub start_ms: i64,
    /// End, exclusive (snapped).
    pub end_ms: i64,
}

impl TypeRange {
    /// True when nothing can match.
    pub fn is_empty(&self) -> bool {
        self.start_ms >= self.end_ms
    }
}

/// The order raw samples are delivered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// By start time (the `time` field is delivered).
    Timed,
    /// By local day, and within a day by a keyed digest of the content
    /// (the `time` field is not delivered).
    ByDay,
}

/// A planned query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Per-type ranges, in query order.
    pub ranges: Vec<TypeRange>,
    /// Fields to deliver.
    pub fields: Fields,
    /// The granularity asked.
    pub granularity: Granularity,
    /// The delivery order of raw samples.
    pub order: Order,
}

impl Plan {
    /// True when the sealed payload must be opened (any field beyond time).
    pub fn needs_payload(&self) -> bool {
        !self.fields.minus(Fields::TIME).is_empty()
    }
}

/// A query to plan.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The types.
    pub types: &'a [DataType],
    /// Start, inclusive.
    pub start_ms: i64,
    /// End, exclusive.
    pub end_ms: i64,
    /// The fields wanted.
    pub wanted: Fields,
    /// `Raw` for samples, else the aggregate's bucket.
    pub granularity: Granularity,
}

fn check_shape(req: &Request<'_>) -> Result<(), PlanError> {
    if req.types.is_empty() {
        return Err(PlanError::Invalid("the query names no data type".into()));
    }
    if req.start_ms >= req.end_ms {
        return Err(PlanError::Invalid(format!(
            "the time range is empty: start {} is not before end {}",
            req.start_ms, req.end_ms
        )));
    }
    for (i, ty) in req.types.iter().enumerate() {
        if req.types[..i].contains(ty) {
            return Err(PlanError::Invalid(format!("{ty} is listed twice")));
        }
        if req.granularity != Granularity::Raw && !ty.aggregatable() {
            return Err(PlanError::Invalid(format!(
                "{ty} is a coded type and cannot be aggregated"
            )));
        }
    }
    Ok(())
}

/// Plans `req` for a user whose calendar is `calendar`, at time `now_ms`.
pub fn plan(grants: &GrantSet, calendar: &Calendar, now_ms: i64, req: &Request<'_>) -> Result<Plan, PlanError> {
    check_shape(req)?;
    let denied = |data_type, reason| PlanError::Denied(Denial { data_type, reason });
    let mut fields = req.wanted;
    let mut ranges = Vec::with_capacity(req.types.len());
    for ty in req.types {
        let grant = grants
            .check_read(*ty, now_ms, req.granularity)
            .map_err(PlanError::Denied)?;
        let has_time = grant.fields.contains(Fields::TIME);
        if req.granularity != Granularity::Raw && !grant.fields.contains(Fields::VALUE) {
            return Err(denied(*ty, DenialReason::FieldNotGranted));
        }
        if req.granularity == Granularity::Hourly && !has_time {
            return Err(denied(*ty, DenialReason::FieldNotGranted));
        }
        fields = fields.intersect(grant.fields);
        let start = req.start_ms.max(grant.visible_from(now_ms).unwrap_or(i64::MIN));
        let snap_to = match req.granularity {
            Granularity::Raw if has_time => Granularity::Raw,
            Granularity::Raw => Granularity::Daily,
            bucket => bucket,
        };
        let (start_ms, end_ms) = calendar
            .snap(start, req.end_ms, now_ms, snap_to)
            .unwrap_or((req.end_ms, req.end_ms));
        ranges.push(TypeRange {
            data_type: *ty,
            start_ms,
            end_ms,
        });
    }
    let order = if fields.contains(Fields::TIME) {
        Order::Timed
    } else {
        Order::ByDay
    };
    Ok(Plan {
        ranges,
        fields,
        granularity: req.granularity,
        order,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::consent::{PlatformPolicy, TypeRequest, UserGrant};

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 20_000 * DAY;

    fn grants(days: Option<u32>, fields: Fields, granularity: Granularity) -> GrantSet {
        let ty = DataType::from_id("steps").unwrap();
        let request = TypeRequest {
            data_type: ty,
            read: true,
            write: false,
            fields: Fields::ALL,
            days: None,
            granularity: Granularity::Raw,
            purpose: "coaching".into(),
        };
        let grant = UserGrant {
            data_type: ty,
            read: true,
            write: false,
            fields,
            days,
            since_ms: None,
            granularity,
            until_ms: None,
            purpose: "coaching".into(),
            granted_ms: 0,
            revoked_ms: None,
        };
        GrantSet::compute(&[request], &[grant], &PlatformPolicy { max_history_days: None })
    }

    fn p(
        g: &GrantSet,
        types: &[DataType],
        range: (i64, i64),
        wanted: Fields,
        gran: Granularity,
    ) -> Result<Plan, PlanError> {
        let req = Request {
            types,
            start_ms: range.0,
            end_ms: range.1,
            wanted,
            granularity: gran,
        };
        plan(g, &Calendar::utc(), NOW, &req)
    }

    fn steps() -> DataType {
        DataType::from_id("steps").unwrap()
    }

    #[test]
    fn malformed_queries() {
        let g = grants(None, Fields::ALL, Granularity::Raw);
        let raw = Granularity::Raw;
        assert!(matches!(
            p(&g, &[], (0, 1), Fields::ALL, raw),
            Err(PlanError::Invalid(_))
        ));
        assert!(matches!(
            p(&g, &[steps()], (5, 5), Fields::ALL, raw),
            Err(PlanError::Invalid(_))
        ));
        assert!(matches!(
            p(&g, &[steps(), steps()], (0, 5), Fields::ALL, raw),
            Err(PlanError::Invalid(_))
        ));
    }

    #[test]
    fn aggregates_need_the_value_field() {
        let g = grants(None, Fields::TIME, Granularity::Raw);
        let e = p(&g, &[steps()], (0, NOW), Fields::ALL, Granularity::Daily).unwrap_err();
        assert_eq!(
            e,
            PlanError::Denied(Denial {
                data_type: steps(),
                reason: DenialReason::FieldNotGranted
            })
        );
    }

    #[test]
    fn hourly_aggregates_need_the_time_field() {
        let g = grants(None, Fields::VALUE, Granularity::Raw);
        let e = p(&g, &[steps()], (0, NOW), Fields::ALL, Granularity::Hourly).unwrap_err();
        assert!(matches!(e, PlanError::Denied(d) if d.reason == DenialReason::FieldNotGranted));
        assert!(p(&g, &[steps()], (0, NOW), Fields::ALL, Granularity::Daily).is_ok());
    }

    #[test]
    fn narrow_aggregate_windows_cover_no_bucket() {
        let g = grants(None, Fields::ALL, Granularity::Daily);
        let t = NOW - 10 * DAY + 3_600_000;
        let plan = p(&g, &[steps()], (t, t + 1), Fields::ALL, Granularity::Daily).unwrap();
        assert!(plan.ranges[0].is_empty());
        let plan = p(&g, &[steps()], (t, t + 2 * DAY), Fields::ALL, Granularity::Daily).unwrap();
        let r = plan.ranges[0];
        assert_eq!((r.start_ms, r.end_ms), (NOW - 9 * DAY, NOW - 8 * DAY));
    }

    #[test]
    fn raw_queries_without_time_snap_to_days() {
        let g = grants(None, Fields::VALUE, Granularity::Raw);
        let t = NOW - 10 * DAY + 3_600_000;
        let plan = p(&g, &[steps()], (t, t + 60_000), Fields::ALL, Granularity::Raw).unwrap();
        assert!(plan.ranges[0].is_empty());
        assert_eq!(plan.order, Order::ByDay);
        let with_time = grants(None, Fields::ALL, Granularity::Raw);
        let plan = p(&with_time, &[steps()], (t, t + 60_000), Fields::ALL, Granularity::Raw).unwrap();
        assert_eq!((plan.ranges[0].start_ms, plan.ranges[0].end_ms), (t, t + 60_000));
        assert_eq!(plan.order, Order::Timed);
    }

    proptest! {
        #[test]
        fn plans_never_exceed_the_grant(
            days in proptest::option::of(1u32..400),
            granted in 0u8..128,
            wanted in 0u8..128,
            start in -400i64..400,
            offset in 0i64..DAY,
            len in 1i64..(800 * DAY),
            grant_g in 0i64..3,
            want_g in 0i64..3,
        ) {
            let grant_g = Granularity::from_code(grant_g).unwrap();
            let want_g = Granularity::from_code(want_g).unwrap();
            let granted_fields = Fields::from_bits(granted);
            let g = grants(days, granted_fields, grant_g);
            let start_ms = NOW + start * DAY + offset;
            let end_ms = start_ms + len;
            let cal = Calendar::utc();
            match p(&g, &[steps()], (start_ms, end_ms), Fields::from_bits(wanted), want_g) {
                Ok(plan) => {
                    prop_assert!(want_g >= grant_g, "finer than granted");
                    prop_assert!(granted_fields.contains(plan.fields));
                    prop_assert!(Fields::from_bits(wanted).contains(plan.fields));
                    let r = plan.ranges[0];
                    if let Some(d) = days && !r.is_empty() {
                        prop_assert!(r.start_ms >= NOW - i64::from(d) * DAY);
                    }
                    let snapped = want_g != Granularity::Raw || !granted_fields.contains(Fields::TIME);
                    if r.is_empty() {
                        // nothing to learn
                    } else if snapped {
                        let unit = if want_g == Granularity::Hourly { Granularity::Hourly } else { Granularity::Daily };
                        prop_assert!(r.start_ms >= start_ms);
                        prop_assert_eq!(cal.floor(r.start_ms, unit), r.start_ms);
                        prop_assert_eq!(cal.floor(r.end_ms, unit), r.end_ms);
                        prop_assert!(r.end_ms <= end_ms || (r.end_ms > NOW && end_ms > NOW));
                    } else {
                        prop_assert!(r.start_ms >= start_ms && r.end_ms == end_ms);
                    }
                }
                Err(PlanError::Denied(d)) => {
                    let needs_value = want_g != Granularity::Raw && !granted_fields.contains(Fields::VALUE);
                    let needs_time = want_g == Granularity::Hourly && !granted_fields.contains(Fields::TIME);
                    prop_assert!(want_g < grant_g || needs_value || needs_time, "{d:?}");
                }
                Err(PlanError::Invalid(m)) => prop_assert!(false, "unexpected invalid: {m}"),
            }
        }
    }
}

//! Query planning: turns a plugin's query into per-type time ranges and a
//! field set, or a refusal. Pure (no I/O), so it is property tested.
//!
//! Rules: every type must be granted at the granularity asked; the time
//! range of each type is clipped to its visible history; the fields are the
//! ones requested, intersected with the grant of every type in the query.

use crate::consent::{Denial, DenialReason, Fields, GrantSet, Granularity};
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
    /// Start, inclusive (clipped to the visible history).
    pub start_ms: i64,
    /// End, exclusive.
    pub end_ms: i64,
}

impl TypeRange {
    /// True when nothing can match.
    pub fn is_empty(&self) -> bool {
        self.start_ms >= self.end_ms
    }
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
}

impl Plan {
    /// True when the sealed payload must be opened (any field beyond time).
    pub fn needs_payload(&self) -> bool {
        !self.fields.minus(Fields::TIME).is_empty()
    }
}

/// Plans a query for `types` over `[start, end)` at `granularity`
/// (`Raw` for samples), asking for `wanted` fields.
pub fn plan(
    grants: &GrantSet,
    now_ms: i64,
    types: &[DataType],
    start_ms: i64,
    end_ms: i64,
    wanted: Fields,
    granularity: Granularity,
) -> Result<Plan, PlanError> {
    if types.is_empty() {
        return Err(PlanError::Invalid("the query names no data type".into()));
    }
    if start_ms >= end_ms {
        return Err(PlanError::Invalid(format!(
            "the time range is empty: start {start_ms} is not before end {end_ms}"
        )));
    }
    for (i, ty) in types.iter().enumerate() {
        if types[..i].contains(ty) {
            return Err(PlanError::Invalid(format!("{ty} is listed twice")));
        }
    }
    let mut fields = wanted;
    let mut ranges = Vec::with_capacity(types.len());
    for ty in types {
        let grant = grants.check_read(*ty, now_ms, granularity).map_err(PlanError::Denied)?;
        if granularity != Granularity::Raw {
            if !ty.aggregatable() {
                return Err(PlanError::Invalid(format!(
                    "{ty} is a coded type and cannot be aggregated"
                )));
            }
            if !grant.fields.contains(Fields::VALUE) {
                return Err(PlanError::Denied(Denial {
                    data_type: *ty,
                    reason: DenialReason::FieldNotGranted,
                }));
            }
        }
        fields = fields.intersect(grant.fields);
        let visible_from = grant.visible_from(now_ms).unwrap_or(i64::MIN);
        ranges.push(TypeRange {
            data_type: *ty,
            start_ms: start_ms.max(visible_from),
            end_ms,
        });
    }
    Ok(Plan {
        ranges,
        fields,
        granularity,
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
        GrantSet::compute(
            &[request],
            &[grant],
            &PlatformPolicy {
                max_history_days: None,
                ..PlatformPolicy::default()
            },
        )
    }

    #[test]
    fn malformed_queries() {
        let g = grants(None, Fields::ALL, Granularity::Raw);
        let steps = DataType::from_id("steps").unwrap();
        assert!(matches!(
            plan(&g, NOW, &[], 0, 1, Fields::ALL, Granularity::Raw),
            Err(PlanError::Invalid(_))
        ));
        assert!(matches!(
            plan(&g, NOW, &[steps], 5, 5, Fields::ALL, Granularity::Raw),
            Err(PlanError::Invalid(_))
        ));
        assert!(matches!(
            plan(&g, NOW, &[steps, steps], 0, 5, Fields::ALL, Granularity::Raw),
            Err(PlanError::Invalid(_))
        ));
    }

    #[test]
    fn aggregates_need_the_value_field() {
        let g = grants(None, Fields::TIME, Granularity::Raw);
        let steps = DataType::from_id("steps").unwrap();
        let e = plan(&g, NOW, &[steps], 0, NOW, Fields::ALL, Granularity::Daily).unwrap_err();
        assert_eq!(
            e,
            PlanError::Denied(Denial {
                data_type: steps,
                reason: DenialReason::FieldNotGranted
            })
        );
    }

    proptest! {
        #[test]
        fn plans_never_exceed_the_grant(
            days in proptest::option::of(1u32..400),
            granted in 0u8..128,
            wanted in 0u8..128,
            start in -400i64..400,
            len in 1i64..800,
            grant_g in 0i64..3,
            want_g in 0i64..3,
        ) {
            let grant_g = Granularity::from_code(grant_g).unwrap();
            let want_g = Granularity::from_code(want_g).unwrap();
            let g = grants(days, Fields::from_bits(granted), grant_g);
            let steps = DataType::from_id("steps").unwrap();
            let start_ms = NOW + start * DAY;
            let end_ms = start_ms + len * DAY;
            match plan(&g, NOW, &[steps], start_ms, end_ms, Fields::from_bits(wanted), want_g) {
                Ok(p) => {
                    prop_assert!(want_g >= grant_g, "finer than granted");
                    prop_assert!(Fields::from_bits(granted).contains(p.fields));
                    prop_assert!(Fields::from_bits(wanted).contains(p.fields));
                    let r = p.ranges[0];
                    prop_assert!(r.start_ms >= start_ms && r.end_ms == end_ms);
                    if let Some(d) = days {
                        prop_assert!(r.start_ms >= NOW - i64::from(d) * DAY);
                    }
                }
                Err(PlanError::Denied(d)) => {
                    prop_assert!(want_g < grant_g || (want_g != Granularity::Raw && !Fields::from_bits(granted).contains(Fields::VALUE)), "{d:?}");
                }
                Err(PlanError::Invalid(m)) => prop_assert!(false, "unexpected invalid: {m}"),
            }
        }
    }
}

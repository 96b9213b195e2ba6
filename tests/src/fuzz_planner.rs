//! The body of the `planner` fuzz target: hostile query ranges, types,
//! fields and granularities against arbitrary grants and time zones. The
//! planner must never panic, never widen a range beyond what was asked
//! (except to complete the bucket in progress), never deliver a field or a
//! granularity that was not granted, and snap every window it keeps to
//! whole buckets whenever it must.
#![allow(clippy::panic, reason = "a panic is how a fuzz target reports a broken property")]

use healthplug_host::capabilities::plan::{Order, PlanError, Request, plan};
use healthplug_host::consent::{Calendar, Fields, GrantSet, Granularity, PlatformPolicy, TypeRequest, UserGrant};
use healthplug_host::registry::DataType;

const ZONES: [&str; 6] = [
    "UTC",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Europe/Paris",
];

/// Reads fixed-size values off the front of the fuzzer's bytes.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }

    fn i64(&mut self) -> i64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        i64::from_le_bytes(b)
    }
}

fn granularity(code: u8) -> Granularity {
    Granularity::from_code(i64::from(code % 3)).unwrap_or(Granularity::Raw)
}

fn grant_set(data_type: DataType, b: &mut Bytes<'_>) -> (GrantSet, Fields, Granularity, Option<u32>) {
    let fields = Fields::from_bits(b.u8() & 0x7f);
    let granted = granularity(b.u8());
    let days = match b.u8() {
        0 => None,
        d => Some(u32::from(d) * 13),
    };
    let request = TypeRequest {
        data_type,
        read: true,
        write: false,
        fields: Fields::ALL,
        days: None,
        granularity: Granularity::Raw,
        purpose: "fuzz".into(),
    };
    let grant = UserGrant {
        data_type,
        read: true,
        write: false,
        fields,
        days,
        since_ms: None,
        granularity: granted,
        until_ms: None,
        purpose: "fuzz".into(),
        granted_ms: 0,
        revoked_ms: None,
    };
    let set = GrantSet::compute(&[request], &[grant], &PlatformPolicy::default());
    (set, fields, granted, days)
}

/// Plans a fuzzed query and checks the plan against the grant.
pub fn planner(data: &[u8]) {
    let mut b = Bytes(data);
    let Some(data_type) = DataType::from_code(b.u8() % 45).filter(|t| t.aggregatable()) else {
        return;
    };
    let (grants, granted_fields, granted_g, days) = grant_set(data_type, &mut b);
    let Ok(calendar) = Calendar::named(ZONES[usize::from(b.u8()) % ZONES.len()]) else {
        panic!("a bundled zone is missing");
    };
    let wanted = Fields::from_bits(b.u8() & 0x7f);
    let asked = granularity(b.u8());
    let now = b.i64() % (400 * 365 * 86_400_000);
    let (start, end) = (b.i64(), b.i64());
    let types = [data_type];
    let req = Request {
        types: &types,
        start_ms: start,
        end_ms: end,
        wanted,
        granularity: asked,
    };
    match plan(&grants, &calendar, now, &req) {
        Ok(p) => check(
            &p,
            &calendar,
            (start, end, now),
            (granted_fields, granted_g, days),
            wanted,
        ),
        Err(PlanError::Invalid(_)) => assert!(start >= end, "only an empty range is invalid here"),
        Err(PlanError::Denied(_)) => {}
    }
}

fn check(
    p: &healthplug_host::capabilities::plan::Plan,
    cal: &Calendar,
    (start, end, now): (i64, i64, i64),
    (fields, granted_g, days): (Fields, Granularity, Option<u32>),
    wanted: Fields,
) {
    assert!(p.granularity >= granted_g, "finer than granted");
    assert!(
        fields.contains(p.fields) && wanted.contains(p.fields),
        "a field beyond the grant"
    );
    assert_eq!(p.order == Order::Timed, p.fields.contains(Fields::TIME));
    let r = p.ranges[0];
    if r.is_empty() {
        return;
    }
    assert!(r.start_ms >= start, "the start moved earlier");
    if let Some(d) = days {
        assert!(
            r.start_ms >= now - i64::from(d) * 86_400_000,
            "before the visible window"
        );
    }
    let unit = match p.granularity {
        Granularity::Raw if fields.contains(Fields::TIME) => None,
        Granularity::Raw | Granularity::Daily => Some(Granularity::Daily),
        Granularity::Hourly => Some(Granularity::Hourly),
    };
    match unit {
        None => assert_eq!(r.end_ms, end),
        Some(u) => {
            assert_eq!(cal.floor(r.start_ms, u), r.start_ms, "a partial bucket at the start");
            assert_eq!(cal.floor(r.end_ms, u), r.end_ms, "a partial bucket at the end");
            assert!(r.end_ms <= end || now < end, "the end moved later without covering now");
        }
    }
}

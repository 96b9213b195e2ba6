//! `health::aggregate` against the mock: whole local buckets, the host's
//! consent rules for aggregates.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

mod common;

use common::{DAY, HOUR, MINUTE, heart_rate, now, plus, steps, today};
use healthplug_sdk::testing::MockHealth;
use healthplug_sdk::{Aggregate, Aggregates, DataType, DenialReason, Error, Fields, Granularity, Timestamp, health};

fn rows(a: &Aggregates) -> Vec<(i64, u32, f64)> {
    a.iter().map(|r| (r.bucket_start.millis(), r.count, r.sum)).collect()
}

fn denied(reason: DenialReason) -> Error {
    Error::NotGranted {
        data_type: DataType::Steps,
        reason,
    }
}

#[test]
fn daily_buckets_are_local_days_with_every_statistic() {
    let _mock = MockHealth::new()
        .utc_offset_minutes(120)
        .samples([
            steps(plus(today(), -30 * MINUTE), 100.0),  // 01:30 local, today
            steps(plus(today(), -150 * MINUTE), 300.0), // 23:30 local, yesterday
            steps(plus(today(), -14 * HOUR), 500.0),    // 12:00 local, yesterday
        ])
        .grant(DataType::Steps)
        .install()
        .unwrap();
    let days = health::aggregate([DataType::Steps])
        .daily()
        .last_days(3)
        .fetch()
        .unwrap();
    let local_today = today().millis() - 2 * HOUR;
    assert_eq!(rows(&days), [(local_today - DAY, 2, 800.0), (local_today, 1, 100.0)]);
    let yesterday: Aggregate = days.iter().next().unwrap();
    assert_eq!(yesterday.data_type, Some(DataType::Steps));
    assert_eq!((yesterday.mean, yesterday.min, yesterday.max), (400.0, 300.0, 500.0));
    assert_eq!(yesterday.utc_offset, 7200);
    assert_eq!(days.unit(0), Some("{steps}"));
}

#[test]
fn hourly_buckets_follow_half_hour_offsets() {
    let _mock = MockHealth::new()
        .utc_offset_minutes(330)
        .samples([
            steps(plus(today(), 10 * HOUR + 10 * MINUTE), 1.0),
            steps(plus(today(), 10 * HOUR + 25 * MINUTE), 2.0),
            steps(plus(today(), 10 * HOUR + 40 * MINUTE), 4.0),
        ])
        .grant(DataType::Steps)
        .install()
        .unwrap();
    let hours = health::aggregate([DataType::Steps])
        .hourly()
        .between(today(), plus(now(), 1))
        .fetch()
        .unwrap();
    let at = |h: i64, m: i64| today().millis() + h * HOUR + m * MINUTE;
    assert_eq!(rows(&hours), [(at(9, 30), 2, 3.0), (at(10, 30), 1, 4.0)]);
}

#[test]
fn a_window_narrower_than_a_bucket_returns_no_rows() {
    let t = plus(today().days_before(10), HOUR);
    let _mock = MockHealth::new()
        .samples([steps(t, 100.0), steps(plus(t, 2 * HOUR), 50.0)])
        .grant(DataType::Steps)
        .install()
        .unwrap();
    let daily = |start: Timestamp, end: Timestamp| {
        health::aggregate([DataType::Steps])
            .daily()
            .between(start, end)
            .fetch()
            .unwrap()
    };
    assert!(daily(t, plus(t, 1)).is_empty());
    // 23 hours of the day: still not a whole day.
    assert!(daily(t, plus(today().days_before(9), 0)).is_empty());
    // Bisecting across calls reveals nothing either.
    assert!(daily(plus(t, -HOUR), plus(t, 11 * HOUR)).is_empty());
    assert!(daily(plus(t, 11 * HOUR), plus(t, 23 * HOUR)).is_empty());
    let hourly = health::aggregate([DataType::Steps])
        .hourly()
        .between(plus(t, MINUTE), plus(t, 59 * MINUTE))
        .fetch()
        .unwrap();
    assert!(hourly.is_empty());
    // The whole day is one row.
    assert_eq!(rows(&daily(today().days_before(10), today().days_before(9))).len(), 1);
}

#[test]
fn partial_edge_buckets_are_dropped_but_today_counts_whole() {
    let at_six = |days_ago: u32| plus(today().days_before(days_ago), 6 * HOUR);
    let _mock = MockHealth::new()
        .samples([
            steps(at_six(3), 3.0),
            steps(at_six(2), 2.0),
            steps(at_six(1), 1.0),
            steps(at_six(0), 10.0),
            steps(plus(today(), 11 * HOUR), 20.0),
        ])
        .grant(DataType::Steps)
        .install()
        .unwrap();
    let from = plus(today().days_before(3), 3 * HOUR);
    let q = |end: Timestamp| health::aggregate([DataType::Steps]).between(from, end).fetch().unwrap();
    let d = |n: u32| today().days_before(n).millis();
    // Past now: today, in progress, counts whole.
    assert_eq!(
        rows(&q(plus(now(), 1))),
        [(d(2), 1, 2.0), (d(1), 1, 1.0), (d(0), 2, 30.0)]
    );
    assert_eq!(rows(&q(plus(now(), 5 * DAY))).len(), 3);
    // Ending at now exactly, today is a partial bucket: dropped.
    assert_eq!(rows(&q(now())), [(d(2), 1, 2.0), (d(1), 1, 1.0)]);
    // `last_days(n)` gives n whole days, today included.
    let week = health::aggregate([DataType::Steps]).last_days(2).fetch().unwrap();
    assert_eq!(rows(&week), [(d(1), 1, 1.0), (d(0), 2, 30.0)]);
}

#[test]
fn coded_types_are_an_invalid_request() {
    let mock = MockHealth::new().grant(DataType::Sleep).install().unwrap();
    let e = health::aggregate([DataType::Sleep]).fetch().unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(m) if m.contains("coded type")));
    // Checked before consent: not a refusal.
    let e = health::aggregate([DataType::Steps, DataType::Condition])
        .fetch()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)));
    assert!(mock.refused().is_empty());
}

#[test]
fn a_bucket_finer_than_the_grant_is_refused() {
    let _mock = MockHealth::new()
        .sample(steps(today(), 5.0))
        .grant_with(DataType::Steps, Fields::all(), Granularity::Daily, None)
        .install()
        .unwrap();
    let e = health::aggregate([DataType::Steps]).hourly().fetch().unwrap_err();
    assert_eq!(e, denied(DenialReason::GranularityTooFine));
    assert_eq!(health::aggregate([DataType::Steps]).daily().fetch().unwrap().len(), 1);
}

#[test]
fn aggregates_need_value_and_hourly_ones_time() {
    let mock = MockHealth::new()
        .grant_with(DataType::Steps, Fields::TIME, Granularity::Raw, None)
        .install()
        .unwrap();
    let e = health::aggregate([DataType::Steps]).fetch().unwrap_err();
    assert_eq!(e, denied(DenialReason::FieldNotGranted));
    drop(mock);
    let _mock = MockHealth::new()
        .grant_with(DataType::Steps, Fields::VALUE, Granularity::Raw, None)
        .install()
        .unwrap();
    let e = health::aggregate([DataType::Steps]).hourly().fetch().unwrap_err();
    assert_eq!(e, denied(DenialReason::FieldNotGranted));
    assert!(health::aggregate([DataType::Steps]).daily().fetch().is_ok());
}

#[test]
fn aggregates_stay_within_the_history_window() {
    let at_six = |days_ago: u32| plus(today().days_before(days_ago), 6 * HOUR);
    let _mock = MockHealth::new()
        .samples([steps(at_six(5), 5.0), steps(at_six(3), 3.0), steps(at_six(2), 2.0)])
        .grant_with(DataType::Steps, Fields::all(), Granularity::Daily, Some(3))
        .install()
        .unwrap();
    // Visible from 3 × 24 h ago (day 3, 12:00): day 3 is partial, dropped.
    let days = health::aggregate([DataType::Steps]).last_days(10).fetch().unwrap();
    assert_eq!(rows(&days), [(today().days_before(2).millis(), 1, 2.0)]);
}

#[test]
fn rows_come_by_type_in_query_order_then_by_bucket() {
    let _mock = MockHealth::new()
        .samples([
            steps(today().days_before(1), 1.0),
            steps(today(), 2.0),
            heart_rate(today().days_before(1), 60.0),
            heart_rate(plus(today().days_before(1), HOUR), 80.0),
        ])
        .grant(DataType::Steps)
        .grant(DataType::HeartRate)
        .install()
        .unwrap();
    let a = health::aggregate([DataType::HeartRate, DataType::Steps])
        .last_days(3)
        .fetch()
        .unwrap();
    let types: Vec<_> = a.iter().filter_map(|r| r.data_type).collect();
    assert_eq!(types, [DataType::HeartRate, DataType::Steps, DataType::Steps]);
    let hr: Vec<_> = a.of(DataType::HeartRate).collect();
    assert_eq!((hr[0].count, hr[0].mean, hr[0].min, hr[0].max), (2, 70.0, 60.0, 80.0));
    assert_eq!(a.unit(0), Some("/min"));
}

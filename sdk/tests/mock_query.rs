//! `health::query` against the mock: the host's rules for raw samples.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

mod common;

use common::{HOUR, MINUTE, heart_rate, now, plus, steps, today};
use healthplug_sdk::testing::MockHealth;
use healthplug_sdk::{DataType, DenialReason, Error, Fields, Granularity, NewSample, Samples, health};

fn starts(samples: &Samples) -> Vec<i64> {
    samples.iter().filter_map(|s| s.start()).map(|t| t.millis()).collect()
}

#[test]
fn samples_of_every_type_come_oldest_first_with_their_fields() {
    let _mock = MockHealth::new()
        .utc_offset_minutes(60)
        .samples([
            steps(plus(today(), 9 * HOUR), 800.0).with_source("Phone"),
            heart_rate(plus(today(), 8 * HOUR), 61.0),
            steps(plus(today(), 7 * HOUR), 500.0),
        ])
        .grant(DataType::Steps)
        .grant(DataType::HeartRate)
        .install()
        .unwrap();
    let all = health::query([DataType::Steps, DataType::HeartRate])
        .fields(Fields::all())
        .last_days(1)
        .fetch()
        .unwrap();
    assert_eq!(starts(&all), [7, 8, 9].map(|h| today().millis() + h * HOUR));
    let types: Vec<_> = all.iter().filter_map(|s| s.data_type()).collect();
    assert_eq!(types, [DataType::Steps, DataType::HeartRate, DataType::Steps]);
    let values: Vec<_> = all.iter().filter_map(|s| s.value()).collect();
    assert_eq!(values, [500.0, 61.0, 800.0]);
    let last = all.get(2).unwrap();
    assert_eq!(last.unit(), Some("{steps}"));
    assert_eq!(last.source_name(), Some("Phone"));
    assert_eq!(last.origin(), Some("fixture"));
    assert_eq!(last.utc_offset(), Some(3600));
    assert_eq!(last.coding(), None);
    assert!(!all.has_more());
}

#[test]
fn a_withheld_field_stays_none() {
    let _mock = MockHealth::new()
        .sample(
            steps(plus(today(), HOUR), 100.0)
                .with_source("Phone")
                .with_device("Watch")
                .with_notes("walk")
                .with_metadata(r#"{"k":1}"#),
        )
        .sample(heart_rate(plus(today(), HOUR), 70.0))
        .grant_with(DataType::Steps, Fields::VALUE | Fields::TIME, Granularity::Raw, None)
        .grant(DataType::HeartRate)
        .install()
        .unwrap();
    let batch = health::query([DataType::Steps]).fields(Fields::all()).fetch().unwrap();
    assert_eq!(batch.fields(), Fields::VALUE | Fields::TIME);
    let s = batch.get(0).unwrap();
    assert_eq!(s.value(), Some(100.0));
    assert!(s.start().is_some());
    assert_eq!((s.unit(), s.source_name(), s.origin()), (None, None, None));
    assert_eq!((s.device(), s.metadata(), s.notes()), (None, None, None));
    // Asking for two types gives the fields granted for both.
    let both = health::query([DataType::HeartRate, DataType::Steps])
        .fields(Fields::all())
        .fetch()
        .unwrap();
    assert_eq!(both.fields(), Fields::VALUE | Fields::TIME);
    assert!(both.iter().all(|s| s.unit().is_none()));
    // A field not requested is not delivered either.
    let only_value = health::query([DataType::HeartRate])
        .fields(Fields::VALUE)
        .fetch()
        .unwrap();
    assert_eq!(only_value.get(0).unwrap().unit(), None);
}

#[test]
fn the_history_window_hides_older_samples() {
    let week_ago = now().days_before(7);
    let _mock = MockHealth::new()
        .samples([
            steps(now().days_before(3), 300.0),
            steps(now().days_before(10), 1000.0),
            steps(week_ago, 7.0),
            steps(plus(week_ago, -1), 8.0),
        ])
        .grant_with(DataType::Steps, Fields::all(), Granularity::Raw, Some(7))
        .install()
        .unwrap();
    // The window starts exactly `days` before now.
    let recent = health::query([DataType::Steps]).last_days(30).fetch().unwrap();
    assert_eq!(recent.values(), Some(&[7.0, 300.0][..]));
    // A window entirely before the history: nothing, not an error.
    let old = health::query([DataType::Steps])
        .between(now().days_before(20), now().days_before(8))
        .fetch()
        .unwrap();
    assert!(old.is_empty());
}

#[test]
fn paging_returns_each_sample_exactly_once() {
    // 30 samples, some sharing a start time, across two types.
    let mut fixtures: Vec<NewSample> = (0..20)
        .map(|i| steps(plus(today(), (i / 2) * 15 * MINUTE), i as f64))
        .collect();
    fixtures.extend((0..10).map(|i| heart_rate(plus(today(), i * 30 * MINUTE), 60.0 + i as f64)));
    let _mock = MockHealth::new()
        .samples(fixtures)
        .grant(DataType::Steps)
        .grant(DataType::HeartRate)
        .install()
        .unwrap();
    let query = health::query([DataType::Steps, DataType::HeartRate])
        .last_days(2)
        .limit(7);
    let mut seen = Vec::new();
    let mut pages = 0;
    query
        .pages(|page| {
            pages += 1;
            assert!(page.len() <= 7);
            seen.extend(page.iter().map(|s| {
                let ty = s.data_type().unwrap().code();
                (s.start().unwrap().millis(), ty, s.value().unwrap().to_bits())
            }));
        })
        .unwrap();
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 30);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 30, "a sample came twice");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "pages are in start order");
    // Walking by hand: the cursor of one page continues it.
    let first = query.fetch().unwrap();
    assert!(first.has_more() && first.next_cursor() != 0);
    let second = query.clone().after(first.next_cursor()).fetch().unwrap();
    assert!(starts(&second)[0] >= *starts(&first).last().unwrap());
}

#[test]
fn a_cursor_not_handed_out_is_an_invalid_request() {
    let _mock = MockHealth::new().grant(DataType::Steps).install().unwrap();
    let e = health::query([DataType::Steps]).after(42).fetch().unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(m) if m.contains("unknown cursor 42")));
}

#[test]
fn without_time_samples_come_by_whole_local_day() {
    let _mock = MockHealth::new()
        .utc_offset_minutes(-300)
        .samples([
            steps(plus(today(), 14 * HOUR), 10.0),
            steps(plus(today(), 16 * HOUR), 20.0),
        ])
        .grant_with(DataType::Steps, Fields::VALUE, Granularity::Raw, None)
        .install()
        .unwrap();
    // A window inside one local day reveals nothing finer than the day.
    let narrow = health::query([DataType::Steps])
        .between(plus(today(), 13 * HOUR), plus(today(), 15 * HOUR))
        .fetch()
        .unwrap();
    assert!(narrow.is_empty());
    // The whole local day (05:00 UTC to 05:00 UTC at -05:00).
    let day = health::query([DataType::Steps])
        .between(plus(today(), 5 * HOUR), plus(today(), 29 * HOUR))
        .fetch()
        .unwrap();
    assert_eq!(day.len(), 2);
    assert_eq!(day.fields(), Fields::VALUE);
    assert!(day.iter().all(|s| s.start().is_none()));
    let mut values: Vec<_> = day.iter().filter_map(|s| s.value()).collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(values, [10.0, 20.0]);
}

#[test]
fn malformed_queries_are_invalid_whatever_is_granted() {
    let _mock = MockHealth::new().grant(DataType::Steps).install().unwrap();
    let invalid = |r: Result<Samples, Error>| matches!(r, Err(Error::InvalidRequest(_)));
    assert!(invalid(health::query([]).fetch()));
    assert!(invalid(health::query([DataType::Steps]).between(now(), now()).fetch()));
    assert!(invalid(health::query([DataType::Steps, DataType::Steps]).fetch()));
    // Shape before consent: an ungranted duplicate is still invalid.
    assert!(invalid(
        health::query([DataType::HeartRate, DataType::HeartRate]).fetch()
    ));
}

#[test]
fn an_aggregates_only_grant_refuses_raw_samples() {
    let mock = MockHealth::new()
        .grant_with(DataType::Steps, Fields::all(), Granularity::Daily, None)
        .install()
        .unwrap();
    let e = health::query([DataType::Steps]).fetch().unwrap_err();
    assert_eq!(
        e,
        Error::NotGranted {
            data_type: DataType::Steps,
            reason: DenialReason::AggregatesOnly
        }
    );
    assert_eq!(mock.refused()[0].reason, DenialReason::AggregatesOnly);
}

#[test]
fn fixtures_are_stored_as_the_host_stores_them() {
    let kg = NewSample::quantity(
        DataType::BodyMass,
        now().days_before(1),
        now().days_before(1),
        154.0,
        "[lb_av]",
    );
    let _mock = MockHealth::new()
        .sample(kg.clone())
        .sample(kg)
        .samples_from(
            "withings",
            [NewSample::quantity(DataType::BodyMass, now(), now(), 70.0, "kg")],
        )
        .grant(DataType::BodyMass)
        .install()
        .unwrap();
    let batch = health::query([DataType::BodyMass])
        .fields(Fields::all())
        .last_days(2)
        .fetch()
        .unwrap();
    assert_eq!(batch.len(), 2, "an exact duplicate is stored once");
    let first = batch.get(0).unwrap();
    assert!((first.value().unwrap() - 69.853).abs() < 0.001);
    assert_eq!(first.unit(), Some("kg"));
    assert_eq!(batch.get(1).unwrap().origin(), Some("withings"));
}

#[test]
fn a_fixture_the_host_would_refuse_fails_the_install() {
    let bad_unit = NewSample::quantity(DataType::Steps, now(), now(), 1.0, "furlongs");
    let e = MockHealth::new().sample(bad_unit).install().unwrap_err();
    assert!(e.to_string().contains("sample 0"), "{e}");
    let backwards = steps(now(), 1.0);
    let backwards = NewSample {
        end: now().days_before(1),
        ..backwards
    };
    let e = MockHealth::new().sample(backwards).install().unwrap_err();
    assert!(e.to_string().contains("ends before it starts"), "{e}");
    // Nothing was installed.
    assert!(MockHealth::new().install().is_ok());
}

#[test]
fn coded_samples_carry_their_coding_with_the_value_field() {
    let deep = NewSample::coded(
        DataType::Sleep,
        plus(today(), -3 * HOUR),
        plus(today(), -2 * HOUR),
        "https://healthplug.dev/vocab/sleep-stage",
        "asleepDeep",
        "Deep sleep",
    )
    .with_value(60.0, "min");
    let _mock = MockHealth::new().sample(deep).grant(DataType::Sleep).install().unwrap();
    let night = health::query([DataType::Sleep]).last_days(1).fetch().unwrap();
    let coding = night.get(0).unwrap().coding().unwrap();
    assert_eq!((coding.code, coding.display), ("asleepDeep", "Deep sleep"));
    let times_only = health::query([DataType::Sleep])
        .fields(Fields::TIME)
        .last_days(1)
        .fetch()
        .unwrap();
    assert_eq!(times_only.get(0).unwrap().coding(), None);
}

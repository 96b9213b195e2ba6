//! The mock's consent script, writes, storage, log, clock and isolation.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

mod common;

use common::{DAY, heart_rate, now, plus, steps, today};
use healthplug_sdk::log::Level;
use healthplug_sdk::testing::{MockHealth, Refusal};
use healthplug_sdk::{DataType, DenialReason, Error, Fields, Granularity, NewSample, Timestamp, health, storage};

fn refused(data_type: DataType, reason: DenialReason) -> Error {
    Error::NotGranted { data_type, reason }
}

#[test]
fn an_ungranted_type_is_refused_not_granted_and_recorded() {
    let mock = MockHealth::new().sample(steps(today(), 10.0)).install().unwrap();
    let e = health::query([DataType::Steps]).fetch().unwrap_err();
    assert_eq!(e, refused(DataType::Steps, DenialReason::NotGranted));
    let e = health::aggregate([DataType::Steps]).fetch().unwrap_err();
    assert_eq!(e, refused(DataType::Steps, DenialReason::NotGranted));
    assert_eq!(
        mock.refused(),
        [Refusal {
            data_type: DataType::Steps,
            reason: DenialReason::NotGranted
        }; 2]
    );
    assert!(health::grants().is_empty());
}

#[test]
fn a_scripted_refusal_gives_its_reason_even_beside_a_granted_type() {
    let _mock = MockHealth::new()
        .sample(steps(today(), 10.0))
        .grant(DataType::Steps)
        .refuse(DataType::HeartRate, DenialReason::Revoked)
        .refuse(DataType::Sleep, DenialReason::Expired)
        .refuse(DataType::BodyMass, DenialReason::NotRequested)
        .install()
        .unwrap();
    for (ty, reason) in [
        (DataType::HeartRate, DenialReason::Revoked),
        (DataType::Sleep, DenialReason::Expired),
        (DataType::BodyMass, DenialReason::NotRequested),
    ] {
        // One refused type fails the whole query: nothing of the other.
        let e = health::query([DataType::Steps, ty]).fetch().unwrap_err();
        assert_eq!(e, refused(ty, reason));
        let write = NewSample::quantity(ty, now(), now(), 1.0, ty.info().unit);
        assert_eq!(health::write(&[write]).unwrap_err(), refused(ty, reason));
    }
    let types: Vec<_> = health::grants().iter().map(|g| g.data_type).collect();
    assert_eq!(types, [DataType::Steps]);
}

#[test]
fn grants_reflect_the_script() {
    let _mock = MockHealth::new()
        .grant(DataType::Steps)
        .grant_with(
            DataType::HeartRate,
            Fields::VALUE | Fields::TIME,
            Granularity::Hourly,
            Some(30),
        )
        .grant_write(DataType::BodyMass)
        .refuse(DataType::Sleep, DenialReason::Revoked)
        .install()
        .unwrap();
    let grants = health::grants();
    assert_eq!(grants.len(), 3);
    let steps = health::grant(DataType::Steps).unwrap();
    assert!(steps.read && !steps.write);
    assert_eq!(
        (steps.fields, steps.granularity, steps.visible_from),
        (Fields::all(), Granularity::Raw, None)
    );
    let hr = health::grant(DataType::HeartRate).unwrap();
    assert_eq!(
        (hr.fields, hr.granularity),
        (Fields::VALUE | Fields::TIME, Granularity::Hourly)
    );
    assert_eq!(hr.visible_from, Some(Timestamp::from_millis(now().millis() - 30 * DAY)));
    let mass = health::grant(DataType::BodyMass).unwrap();
    assert!(mass.write && !mass.read);
    assert!(health::grant(DataType::Sleep).is_none());
}

#[test]
fn a_revocation_mid_run_bites_on_the_next_call() {
    let mock = MockHealth::new()
        .sample(steps(today(), 10.0))
        .grant(DataType::Steps)
        .install()
        .unwrap();
    assert_eq!(health::query([DataType::Steps]).fetch().unwrap().len(), 1);
    mock.refuse(DataType::Steps, DenialReason::Revoked);
    let e = health::query([DataType::Steps]).fetch().unwrap_err();
    assert_eq!(e, refused(DataType::Steps, DenialReason::Revoked));
    assert!(health::grants().is_empty());
}

#[test]
fn writes_need_a_write_grant() {
    let mock = MockHealth::new()
        .grant(DataType::Steps)
        .grant_write(DataType::BodyMass)
        .install()
        .unwrap();
    let e = health::write(&[heart_rate(now(), 60.0)]).unwrap_err();
    assert_eq!(e, refused(DataType::HeartRate, DenialReason::NotGranted));
    let e = health::write(&[steps(now(), 60.0)]).unwrap_err();
    assert_eq!(e, refused(DataType::Steps, DenialReason::WriteNotGranted));
    // A batch is all or nothing.
    let weight = NewSample::quantity(DataType::BodyMass, now(), now(), 176.0, "lb").with_source("Scale");
    let e = health::write(&[weight.clone(), steps(now(), 1.0)]).unwrap_err();
    assert_eq!(e, refused(DataType::Steps, DenialReason::WriteNotGranted));
    assert!(mock.written().is_empty());
    assert_eq!(health::write(&[weight.clone(), weight]).unwrap().accepted, 2);
    let written = mock.written();
    assert_eq!(written.len(), 2);
    let w = &written[0];
    assert_eq!(w.sample.data_type, DataType::BodyMass);
    assert!((w.sample.value.unwrap() - 79.832).abs() < 0.001);
    assert_eq!(w.sample.unit, "kg");
    assert_eq!(
        (w.original_value, w.original_unit.as_deref()),
        (Some(176.0), Some("lb"))
    );
    assert_eq!(w.sample.source_name.as_deref(), Some("Scale"));
    assert_eq!(mock.refused().len(), 3);
}

#[test]
fn what_a_plugin_writes_is_not_read_back_in_the_same_run() {
    let mock = MockHealth::new()
        .grant(DataType::Steps)
        .grant_write(DataType::Steps)
        .install()
        .unwrap();
    health::write(&[steps(today(), 5.0)]).unwrap();
    assert!(
        health::query([DataType::Steps])
            .last_days(1)
            .fetch()
            .unwrap()
            .is_empty()
    );
    assert_eq!(mock.written().len(), 1);
}

#[test]
fn a_malformed_write_is_an_invalid_request() {
    let mock = MockHealth::new().grant_write(DataType::BodyMass).install().unwrap();
    let at = |value: f64, unit: &str| NewSample::quantity(DataType::BodyMass, now(), now(), value, unit);
    let invalid = |s: NewSample| matches!(health::write(&[s]), Err(Error::InvalidRequest(_)));
    assert!(invalid(at(70.0, "parsecs")));
    assert!(invalid(at(f64::INFINITY, "kg")));
    assert!(invalid(NewSample {
        end: now().days_before(1),
        ..at(70.0, "kg")
    }));
    assert!(invalid(at(70.0, "kg").with_metadata("[1, 2]")));
    assert!(mock.written().is_empty());
}

#[test]
fn storage_is_refused_unless_granted() {
    let _mock = MockHealth::new().install().unwrap();
    for e in [
        storage::get("a").unwrap_err(),
        storage::set("a", b"1").unwrap_err(),
        storage::list_keys("").unwrap_err(),
    ] {
        assert!(matches!(e, Error::CapabilityNotGranted(_)), "{e}");
    }
}

#[test]
fn storage_is_an_in_memory_map_within_its_quota() {
    let mock = MockHealth::new()
        .storage_entry("goal", "8000")
        .storage_quota(32, 3)
        .install()
        .unwrap();
    assert_eq!(storage::get_string("goal").unwrap().as_deref(), Some("8000"));
    storage::set("day:1", b"ok").unwrap();
    storage::set("day:2", b"ok").unwrap();
    assert_eq!(storage::list_keys("day:").unwrap(), ["day:1", "day:2"]);
    let e = storage::set("day:3", b"ok").unwrap_err();
    assert!(matches!(e, Error::LimitExceeded(_)), "{e}");
    // Replacing a value counts its new size, not both.
    storage::set("day:2", b"fine").unwrap();
    assert!(storage::delete("day:1").unwrap());
    assert!(!storage::delete("day:1").unwrap());
    assert!(matches!(storage::get(""), Err(Error::InvalidRequest(_))));
    assert!(matches!(storage::set("a\nb", b""), Err(Error::InvalidRequest(_))));
    let stored = mock.stored();
    assert_eq!(stored.keys().collect::<Vec<_>>(), ["day:2", "goal"]);
    assert_eq!(stored["day:2"], b"fine");
}

#[test]
fn log_lines_are_kept_with_their_level() {
    let mock = MockHealth::new().install().unwrap();
    healthplug_sdk::info!("found {} days", 3);
    healthplug_sdk::warn!("no heart rate");
    let logs = mock.logs();
    assert_eq!(logs.len(), 2);
    assert!(matches!(logs[0].level, Level::Info));
    assert_eq!(logs[0].message, "found 3 days");
    assert!(matches!(logs[1].level, Level::Warn));
}

#[test]
fn the_clock_is_pinned() {
    let pinned = Timestamp::from_millis(1_700_000_000_000);
    let mock = MockHealth::new().now(pinned).install().unwrap();
    assert_eq!(Timestamp::now(), pinned);
    drop(mock);
    let _default = MockHealth::new().install().unwrap();
    assert_eq!(Timestamp::now(), now());
}

#[test]
fn each_thread_sees_only_its_own_mock() {
    let _here = MockHealth::new().grant(DataType::Steps).install().unwrap();
    let other = std::thread::spawn(|| {
        // No mock on this thread: calls fail, naming the fix.
        let e = health::query([DataType::Steps]).fetch().unwrap_err();
        assert!(matches!(e, Error::Unavailable(m) if m.contains("MockHealth")));
        let _there = MockHealth::new()
            .sample(heart_rate(plus(today(), 1), 50.0))
            .grant(DataType::HeartRate)
            .install()
            .unwrap();
        health::grants().iter().map(|g| g.data_type).collect::<Vec<_>>()
    });
    assert_eq!(other.join().unwrap(), [DataType::HeartRate]);
    let here: Vec<_> = health::grants().iter().map(|g| g.data_type).collect();
    assert_eq!(here, [DataType::Steps]);
}

#[test]
fn one_mock_at_a_time_per_thread() {
    let first = MockHealth::new().install().unwrap();
    let e = MockHealth::new().install().unwrap_err();
    assert!(e.to_string().contains("already installed"), "{e}");
    drop(first);
    let _second = MockHealth::new().install().unwrap();
    assert!(MockHealth::new().utc_offset_minutes(19 * 60).install().is_err());
}

//! Conversions between the host's types and the WIT bindings' types.

use crate::bindings::healthplug::plugin::types::{self as wit, DataType as WitType};
use crate::consent::{Denial, DenialReason, Fields, Granularity};
use crate::registry::DataType;

macro_rules! wit_types {
    ($($case:ident),* $(,)?) => {
        [$(WitType::$case),*]
    };
}

/// The WIT data types in type-code order, from the registry's list.
const WIT_TYPES: [WitType; DataType::COUNT] = healthplug_registry::with_wit_cases!(wit_types);

// The table must list the WIT cases in order, and cover the registry.
const _: () = {
    let mut i = 0;
    while i < WIT_TYPES.len() {
        assert!(WIT_TYPES[i] as usize == i, "WIT_TYPES is out of order");
        i += 1;
    }
    assert!(
        WIT_TYPES.len() == DataType::COUNT,
        "the registry and the WIT enum differ in length"
    );
};

/// The WIT value of a registry type.
pub fn to_wit_type(ty: DataType) -> WitType {
    WIT_TYPES[usize::from(ty.code())]
}

/// The registry type of a WIT value.
pub fn from_wit_type(ty: WitType) -> DataType {
    // Every WIT case has a registry entry (checked at compile time above).
    DataType::from_code(ty as u8).unwrap_or_else(|| unreachable!("WIT data type without a registry entry"))
}

/// Host fields to WIT flags.
pub fn to_wit_fields(fields: Fields) -> wit::FieldSet {
    let mut out = wit::FieldSet::empty();
    for (host, flag) in FIELD_PAIRS {
        if fields.contains(host) {
            out |= flag;
        }
    }
    out
}

/// WIT flags to host fields.
pub fn from_wit_fields(flags: wit::FieldSet) -> Fields {
    let mut out = Fields::NONE;
    for (host, flag) in FIELD_PAIRS {
        if flags.contains(flag) {
            out = out.union(host);
        }
    }
    out
}

const FIELD_PAIRS: [(Fields, wit::FieldSet); 7] = [
    (Fields::VALUE, wit::FieldSet::VALUE),
    (Fields::UNIT, wit::FieldSet::UNIT),
    (Fields::TIME, wit::FieldSet::TIME),
    (Fields::SOURCE_NAME, wit::FieldSet::SOURCE_NAME),
    (Fields::DEVICE, wit::FieldSet::DEVICE),
    (Fields::METADATA, wit::FieldSet::METADATA),
    (Fields::NOTES, wit::FieldSet::NOTES),
];

/// Host granularity to WIT.
pub fn to_wit_granularity(g: Granularity) -> wit::Granularity {
    match g {
        Granularity::Raw => wit::Granularity::Raw,
        Granularity::Hourly => wit::Granularity::Hourly,
        Granularity::Daily => wit::Granularity::Daily,
    }
}

/// WIT granularity to host.
pub fn from_wit_granularity(g: wit::Granularity) -> Granularity {
    match g {
        wit::Granularity::Raw => Granularity::Raw,
        wit::Granularity::Hourly => Granularity::Hourly,
        wit::Granularity::Daily => Granularity::Daily,
    }
}

/// A WIT denial reason as the host's (whose `id()` is its one name).
pub fn from_wit_denial_reason(reason: wit::DenialReason) -> DenialReason {
    match reason {
        wit::DenialReason::NotRequested => DenialReason::NotRequested,
        wit::DenialReason::NotGranted => DenialReason::NotGranted,
        wit::DenialReason::Revoked => DenialReason::Revoked,
        wit::DenialReason::Expired => DenialReason::Expired,
        wit::DenialReason::AggregatesOnly => DenialReason::AggregatesOnly,
        wit::DenialReason::GranularityTooFine => DenialReason::GranularityTooFine,
        wit::DenialReason::WriteNotGranted => DenialReason::WriteNotGranted,
        wit::DenialReason::FieldNotGranted => DenialReason::FieldNotGranted,
    }
}

/// A host denial as the WIT error the plugin sees.
pub fn to_wit_denial(d: Denial) -> wit::Error {
    let reason = match d.reason {
        DenialReason::NotRequested => wit::DenialReason::NotRequested,
        DenialReason::NotGranted => wit::DenialReason::NotGranted,
        DenialReason::Revoked => wit::DenialReason::Revoked,
        DenialReason::Expired => wit::DenialReason::Expired,
        DenialReason::AggregatesOnly => wit::DenialReason::AggregatesOnly,
        DenialReason::GranularityTooFine => wit::DenialReason::GranularityTooFine,
        DenialReason::WriteNotGranted => wit::DenialReason::WriteNotGranted,
        DenialReason::FieldNotGranted => wit::DenialReason::FieldNotGranted,
    };
    wit::Error::NotGranted(wit::Denial {
        data_type: to_wit_type(d.data_type),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_denial_reason_crosses_the_boundary_and_back_with_its_one_name() {
        let all = [
            DenialReason::NotRequested,
            DenialReason::NotGranted,
            DenialReason::Revoked,
            DenialReason::Expired,
            DenialReason::AggregatesOnly,
            DenialReason::GranularityTooFine,
            DenialReason::WriteNotGranted,
            DenialReason::FieldNotGranted,
        ];
        let steps = DataType::from_id("steps").unwrap();
        for reason in all {
            let wit::Error::NotGranted(d) = to_wit_denial(Denial {
                data_type: steps,
                reason,
            }) else {
                panic!("{reason:?} did not become a denial");
            };
            assert_eq!(from_wit_denial_reason(d.reason), reason);
            assert_eq!(from_wit_type(d.data_type), steps);
        }
        let names: std::collections::HashSet<&str> = all.iter().map(|r| r.id()).collect();
        assert_eq!(names.len(), all.len());
    }
}

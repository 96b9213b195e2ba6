//! How finely a plugin may see a data type over time: raw samples, or
//! hourly or daily aggregates only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Time granularity, ordered from finest (`Raw`) to coarsest (`Daily`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// Individual samples.
    Raw,
    /// Hourly aggregates.
    Hourly,
    /// Daily (UTC) aggregates.
    Daily,
}

impl Granularity {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            Granularity::Raw => "raw",
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
        }
    }

    /// The bucket length in milliseconds (`None` for raw).
    pub fn bucket_ms(self) -> Option<i64> {
        match self {
            Granularity::Raw => None,
            Granularity::Hourly => Some(3_600_000),
            Granularity::Daily => Some(86_400_000),
        }
    }

    /// A stable code for storage.
    pub fn code(self) -> u8 {
        match self {
            Granularity::Raw => 0,
            Granularity::Hourly => 1,
            Granularity::Daily => 2,
        }
    }

    /// The granularity with this storage code.
    pub fn from_code(code: i64) -> Option<Granularity> {
        match code {
            0 => Some(Granularity::Raw),
            1 => Some(Granularity::Hourly),
            2 => Some(Granularity::Daily),
            _ => None,
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Granularity {
    type Err = String;

    fn from_str(s: &str) -> Result<Granularity, String> {
        match s {
            "raw" => Ok(Granularity::Raw),
            "hourly" => Ok(Granularity::Hourly),
            "daily" => Ok(Granularity::Daily),
            other => Err(format!("unknown granularity `{other}` (use raw, hourly or daily)")),
        }
    }
}

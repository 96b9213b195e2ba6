//! The user's health data: raw samples, host-computed aggregates, the
//! grants this plugin holds, and writing samples.
//!
//! Every call goes through the host, which checks the user's consent on
//! each call: a revoked grant fails the very next call with
//! [`Error::NotGranted`](crate::Error::NotGranted).

use crate::bindings::healthplug::plugin::health_data as wit;
use crate::bindings::healthplug::plugin::types::TypeGrant;
use crate::host;
use crate::{Aggregates, DataType, Error, Fields, Granularity, Samples, Timestamp};

pub use crate::write::write;

/// What the plugin may do with one data type for the current user.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The data type.
    pub data_type: DataType,
    /// May read.
    pub read: bool,
    /// May write.
    pub write: bool,
    /// Fields visible.
    pub fields: Fields,
    /// Finest granularity visible.
    pub granularity: Granularity,
    /// Earliest visible sample time, if there is a history window.
    pub visible_from: Option<Timestamp>,
    /// When the grant ends.
    pub expires_at: Option<Timestamp>,
    /// The purpose the user agreed to.
    pub purpose: String,
}

impl From<TypeGrant> for Grant {
    fn from(g: TypeGrant) -> Grant {
        Grant {
            data_type: g.data_type,
            read: g.read,
            write: g.write,
            fields: g.fields,
            granularity: g.granularity,
            visible_from: g.visible_from.map(Timestamp::from_millis),
            expires_at: g.expires_at.map(Timestamp::from_millis),
            purpose: g.purpose,
        }
    }
}

/// The grants this plugin holds for the current user.
pub fn grants() -> Vec<Grant> {
    host::grants().into_iter().map(Grant::from).collect()
}

/// The grant for one type, if any.
pub fn grant(data_type: DataType) -> Option<Grant> {
    grants().into_iter().find(|g| g.data_type == data_type)
}

/// Starts a raw-sample query for `types`. By default it covers the last 30
/// days and asks for value, unit and time.
pub fn query(types: impl IntoIterator<Item = DataType>) -> Query {
    let end = Timestamp::now();
    Query {
        types: types.into_iter().collect(),
        start: end.days_before(30),
        end: Timestamp::from_millis(end.millis().saturating_add(1)),
        fields: Fields::VALUE | Fields::UNIT | Fields::TIME,
        limit: 0,
        cursor: 0,
    }
}

/// A raw-sample query under construction.
#[derive(Clone, Debug)]
#[must_use = "a query does nothing until `fetch` is called"]
pub struct Query {
    types: Vec<DataType>,
    start: Timestamp,
    end: Timestamp,
    fields: Fields,
    limit: u32,
    cursor: u64,
}

impl Query {
    /// Samples starting in `[start, end)`.
    pub fn between(mut self, start: Timestamp, end: Timestamp) -> Query {
        self.start = start;
        self.end = end;
        self
    }

    /// Samples from the last `days` days up to now.
    pub fn last_days(mut self, days: u32) -> Query {
        let now = Timestamp::now();
        self.start = now.days_before(days);
        self.end = Timestamp::from_millis(now.millis().saturating_add(1));
        self
    }

    /// The fields wanted; the result holds these intersected with the fields
    /// granted.
    pub fn fields(mut self, fields: Fields) -> Query {
        self.fields = fields;
        self
    }

    /// At most `limit` samples per call.
    pub fn limit(mut self, limit: u32) -> Query {
        self.limit = limit;
        self
    }

    /// Continues after a previous page: pass [`Samples::next_cursor`] of
    /// the batch before (see [`Query::pages`] for the whole walk).
    pub fn after(mut self, cursor: u64) -> Query {
        self.cursor = cursor;
        self
    }

    /// Runs the query page by page until nothing more matches, handing each
    /// page to `each`; stops at the first error.
    pub fn pages(&self, mut each: impl FnMut(&Samples)) -> Result<(), Error> {
        let mut query = self.clone();
        loop {
            let page = query.fetch()?;
            each(&page);
            if !page.has_more() {
                return Ok(());
            }
            query.cursor = page.next_cursor();
        }
    }

    /// Runs the query.
    pub fn fetch(&self) -> Result<Samples, Error> {
        let q = wit::SampleQuery {
            types: self.types.clone(),
            start: self.start.millis(),
            end: self.end.millis(),
            fields: self.fields,
            limit: self.limit,
            cursor: self.cursor,
        };
        host::query(&q).map(Samples::new).map_err(Error::from)
    }
}

/// Starts an aggregate query for `types` (daily buckets over the last 30
/// days by default).
///
/// Buckets are the user's local hours and days. The host snaps the range
/// to whole buckets, dropping a bucket the range covers only in part, so a
/// range may simply start inside the day before the first one wanted.
pub fn aggregate(types: impl IntoIterator<Item = DataType>) -> AggregateQuery {
    let end = Timestamp::now();
    AggregateQuery {
        types: types.into_iter().collect(),
        start: end.days_before(30),
        end: past_now(end),
        bucket: Granularity::Daily,
    }
}

/// The end of an aggregate range "up to now": a day past the plugin's
/// clock. The host counts the bucket in progress whole only when the end
/// is past *its* now, which is later than the moment the plugin read its
/// clock (by the time the call reaches the host); an end of `now + 1 ms`
/// would drop today. Nothing is recorded in the future, so the day ahead
/// adds no rows.
fn past_now(now: Timestamp) -> Timestamp {
    Timestamp::from_millis(now.millis().saturating_add(86_400_000))
}

/// An aggregate query under construction.
#[derive(Clone, Debug)]
#[must_use = "a query does nothing until `fetch` is called"]
pub struct AggregateQuery {
    types: Vec<DataType>,
    start: Timestamp,
    end: Timestamp,
    bucket: Granularity,
}

impl AggregateQuery {
    /// Hourly buckets.
    pub fn hourly(mut self) -> AggregateQuery {
        self.bucket = Granularity::Hourly;
        self
    }

    /// Daily buckets (the user's local calendar days).
    pub fn daily(mut self) -> AggregateQuery {
        self.bucket = Granularity::Daily;
        self
    }

    /// The last `days` local days, today (in progress) included.
    ///
    /// The range starts exactly `days` × 24 hours ago, inside the local day
    /// before the first one wanted: the host drops that partial day.
    pub fn last_days(mut self, days: u32) -> AggregateQuery {
        let now = Timestamp::now();
        self.start = now.days_before(days);
        self.end = past_now(now);
        self
    }

    /// Samples starting in `[start, end)`.
    pub fn between(mut self, start: Timestamp, end: Timestamp) -> AggregateQuery {
        self.start = start;
        self.end = end;
        self
    }

    /// Runs the query.
    pub fn fetch(&self) -> Result<Aggregates, Error> {
        let q = wit::AggregateQuery {
            types: self.types.clone(),
            start: self.start.millis(),
            end: self.end.millis(),
            bucket: self.bucket,
        };
        host::aggregate(&q).map(Aggregates::new).map_err(Error::from)
    }
}

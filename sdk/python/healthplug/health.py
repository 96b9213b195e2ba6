"""The user's health data: raw samples, host-computed aggregates and the
grants this plugin holds. Every call is checked by the host against the
user's consent; a refusal raises `NotGranted` with its reason.

    days = health.aggregate([DataType.STEPS]).daily().last_days(7).fetch()
    night = health.query([DataType.SLEEP]).last_days(1).fetch()
"""

import time

from wit_world.imports import health_data as _wit
from wit_world.imports.types import FieldSet as Fields
from wit_world.imports.types import Granularity

from .batch import Samples, aggregates
from .errors import call

DAY_MS = 86_400_000


def now_ms() -> int:
    """The host's clock, ms since the Unix epoch."""
    return int(time.time() * 1000)


def grants():
    """What this plugin may read and write for the user now."""
    return call(_wit.grants)


class Query:
    """A raw-sample query: `last_days`, `between`, `fields`, `limit`, then
    `fetch` (one page) or `pages` (every page)."""

    def __init__(self, types):
        now = now_ms()
        self.types = list(types)
        self.start = now - 30 * DAY_MS
        self.end = now + 1
        self.wanted = Fields.VALUE | Fields.UNIT | Fields.TIME
        self.max = 0
        self.cursor = 0

    def last_days(self, days: int):
        """Samples from `days` × 24 h ago up to now."""
        now = now_ms()
        self.start, self.end = now - days * DAY_MS, now + 1
        return self

    def between(self, start: int, end: int):
        """Samples starting in [start, end) (ms)."""
        self.start, self.end = start, end
        return self

    def fields(self, fields: Fields):
        """The fields wanted (intersected with the fields granted)."""
        self.wanted = fields
        return self

    def limit(self, n: int):
        """At most `n` samples per page."""
        self.max = n
        return self

    def after(self, cursor: int):
        """Continue after a previous page's `next_cursor`."""
        self.cursor = cursor
        return self

    def fetch(self) -> Samples:
        q = _wit.SampleQuery(self.types, self.start, self.end, self.wanted, self.max, self.cursor)
        return Samples(call(_wit.query, q))

    def pages(self):
        """Every page, in order."""
        while True:
            page = self.fetch()
            yield page
            if not page.more:
                return
            self.cursor = page.next_cursor


class AggregateQuery:
    """Host-computed sums, means, mins and maxes per local day or hour."""

    def __init__(self, types):
        now = now_ms()
        self.types = list(types)
        self.start = now - 30 * DAY_MS
        # A day past now: the host counts today's bucket in progress whole
        # only for an end past *its* clock, read after this one.
        self.end = now + DAY_MS
        self.bucket = Granularity.DAILY

    def daily(self):
        self.bucket = Granularity.DAILY
        return self

    def hourly(self):
        self.bucket = Granularity.HOURLY
        return self

    def last_days(self, days: int):
        """`days` whole local days up to today (today counts whole)."""
        now = now_ms()
        self.start, self.end = now - days * DAY_MS, now + DAY_MS
        return self

    def between(self, start: int, end: int):
        self.start, self.end = start, end
        return self

    def fetch(self):
        q = _wit.AggregateQuery(self.types, self.start, self.end, self.bucket)
        return aggregates(call(_wit.aggregate, q))


def query(types) -> Query:
    """Starts a raw-sample query (default: the last 30 days; value, unit, time)."""
    return Query(types)


def aggregate(types) -> AggregateQuery:
    """Starts an aggregate query (default: daily, the last 30 days)."""
    return AggregateQuery(types)

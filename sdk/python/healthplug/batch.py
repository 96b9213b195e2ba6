"""Columnar batches as the host sends them, with per-sample iteration.

A `Samples` batch keeps the host's columns (one list per field,
dictionary-encoded strings); iterating gives `Sample` views whose
attributes are `None` for every field the plugin was not granted.
"""

from dataclasses import dataclass
from typing import Optional

from wit_world.imports.types import DataType


def _strings(column, i):
    if column is None:
        return None
    text = column.dictionary[column.indices[i]]
    return text or None


@dataclass(frozen=True)
class Coding:
    """A coded sample's coding (see docs/data-types.md for the codes)."""

    system: str
    code: str
    display: str


class Sample:
    """One sample of a batch; `None` for a field not granted."""

    __slots__ = ("_batch", "_i")

    def __init__(self, batch, i):
        self._batch = batch
        self._i = i

    @property
    def data_type(self) -> DataType:
        return DataType(self._batch.type_codes[self._i])

    def _col(self, name):
        column = getattr(self._batch, name)
        return None if column is None else column[self._i]

    @property
    def start(self) -> Optional[int]:
        """Start, ms since the Unix epoch (needs `time`)."""
        return self._col("start_times")

    @property
    def end(self) -> Optional[int]:
        """End, ms since the Unix epoch (needs `time`)."""
        return self._col("end_times")

    @property
    def value(self) -> Optional[float]:
        """The value in the type's canonical unit (needs `value`)."""
        return self._col("values")

    @property
    def utc_offset(self) -> Optional[int]:
        """Minutes east of UTC where it was recorded (needs `time`)."""
        return self._col("utc_offsets")

    @property
    def unit(self) -> Optional[str]:
        return _strings(self._batch.units, self._i)

    @property
    def coding(self) -> Optional[Coding]:
        """The coding of a coded sample (needs `value`)."""
        c = self._batch.codings
        if c is None:
            return None
        code = _strings(c.codes, self._i)
        if code is None:
            return None
        return Coding(_strings(c.systems, self._i) or "", code, _strings(c.displays, self._i) or "")

    @property
    def source_name(self) -> Optional[str]:
        return _strings(self._batch.source_names, self._i)

    @property
    def device(self) -> Optional[str]:
        return _strings(self._batch.devices, self._i)

    @property
    def metadata(self) -> Optional[str]:
        return _strings(self._batch.metadata, self._i)

    @property
    def notes(self) -> Optional[str]:
        return _strings(self._batch.notes, self._i)

    @property
    def origin(self) -> Optional[str]:
        """The connector or plugin that stored it (set by the host)."""
        return _strings(self._batch.origins, self._i)


class Samples:
    """A page of raw samples in columnar form."""

    def __init__(self, batch):
        self.batch = batch

    def __len__(self):
        return len(self.batch.type_codes)

    def __iter__(self):
        return (Sample(self.batch, i) for i in range(len(self)))

    @property
    def values(self):
        """The value column (`None` without `value`): sum it without a loop."""
        return self.batch.values

    @property
    def more(self) -> bool:
        """True when another page follows (`Query.after(next_cursor)`)."""
        return self.batch.more

    @property
    def next_cursor(self) -> int:
        return self.batch.next_cursor


@dataclass(frozen=True)
class Aggregate:
    """One (type, bucket) row computed by the host."""

    data_type: DataType
    bucket_start: int
    utc_offset: int
    count: int
    sum: float
    mean: float
    min: float
    max: float
    unit: str


def aggregates(batch):
    """The rows of an aggregate batch."""
    return [
        Aggregate(
            DataType(batch.type_codes[i]),
            batch.bucket_starts[i],
            batch.utc_offsets[i],
            batch.counts[i],
            batch.sums[i],
            batch.means[i],
            batch.mins[i],
            batch.maxs[i],
            batch.units.dictionary[batch.units.indices[i]],
        )
        for i in range(len(batch.type_codes))
    ]

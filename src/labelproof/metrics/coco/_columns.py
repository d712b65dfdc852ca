"""Vectorised extraction of validated numpy columns from lists of JSON records.

Every helper first tries the fast path (one list comprehension, one ``np.array``) and only
when that fails scans the records one by one to name the first bad record and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidDataset

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Records:
    """A list of JSON records and where it came from, to name bad records in errors."""

    items: list[Any]
    source: str
    where: str

    def error(self, index: int, key: str | None, problem: str) -> InvalidDataset:
        """An ``InvalidDataset`` naming the file, the record (index and id) and the field."""
        rec = self.items[index] if 0 <= index < len(self.items) else None
        rid = ""
        if isinstance(rec, dict) and "id" in rec:
            rid = f" (id {str(rec['id'])[:40]})"
        path = f"{self.where}[{index}]" + (f".{key}" if key else "")
        what = f"field {key!r} " if key else ""
        return InvalidDataset(
            f"{self.source}: {self.where}[{index}]{rid}: {what}{problem}",
            field=path,
            source=self.source,
            index=index,
        )

    def pluck(self, key: str) -> list[Any]:
        """The values of ``key`` in every record, in order; every record must have it."""
        try:
            return [r[key] for r in self.items]
        except (KeyError, TypeError, IndexError):
            pass
        for i, r in enumerate(self.items):
            if not isinstance(r, dict):
                raise self.error(i, None, f"is not a JSON object: {_short(r)}")
            if key not in r:
                raise self.error(i, key, "is missing")
        raise AssertionError("unreachable")  # pragma: no cover

    def integers(
        self, key: str, values: list[Any] | None = None, *, allow_bool: bool = False
    ) -> I64:
        """Integer column, shape (N,)."""
        vals = self.pluck(key) if values is None else values
        arr = _try_array(vals)
        kinds = "iub" if allow_bool else "iu"
        if len(vals) == 0:
            return np.zeros(0, dtype=np.int64)
        if arr is None or arr.ndim != 1 or arr.dtype.kind not in kinds:
            for i, v in enumerate(vals):
                if not _is_int(v, allow_bool):
                    raise self.error(i, key, f"must be an integer, got {_short(v)}")
            raise self.error(0, key, "must be integers")  # pragma: no cover
        return arr.astype(np.int64)

    def numbers(
        self,
        key: str,
        values: list[Any] | None = None,
        *,
        width: int | None = None,
        nonneg: bool = False,
    ) -> F64:
        """Finite float column, shape (N,) or (N, width) for lists of ``width`` numbers."""
        vals = self.pluck(key) if values is None else values
        shape: tuple[int, ...] = (len(vals),) if width is None else (len(vals), width)
        if len(vals) == 0:
            return np.zeros(shape, dtype=np.float64)
        arr = _try_array(vals)
        if arr is None or arr.shape != shape or arr.dtype.kind not in "iuf":
            for i, v in enumerate(vals):
                if width is None:
                    if not _is_num(v):
                        raise self.error(i, key, f"must be a number, got {_short(v)}")
                elif not (isinstance(v, list) and len(v) == width and all(_is_num(x) for x in v)):
                    raise self.error(i, key, f"must be a list of {width} numbers, got {_short(v)}")
            raise self.error(0, key, "must be numbers")  # pragma: no cover
        out = arr.astype(np.float64)
        bad = ~np.isfinite(out)
        if bad.any():
            i = int(np.flatnonzero(bad.reshape(len(vals), -1).any(axis=1))[0])
            raise self.error(i, key, f"must be finite, got {_short(vals[i])}")
        if nonneg:
            neg = out < 0
            if neg.any():
                i = int(np.flatnonzero(neg.reshape(len(vals), -1).any(axis=1))[0])
                raise self.error(i, key, f"must not be negative, got {_short(vals[i])}")
        return out

    def unique_ids(self, ids: I64, key: str = "id") -> None:
        """Raise on the first record whose ``key`` repeats an earlier one."""
        if len(ids) < 2:
            return
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        dup = np.flatnonzero(s[1:] == s[:-1])
        if len(dup):
            later = order[dup + 1]
            i = int(later.min())
            raise self.error(i, key, f"duplicates an earlier {key} ({int(ids[i])})")

    def members(self, values: I64, known_sorted: I64, key: str, what: str) -> I64:
        """Index of each value in ``known_sorted``, shape (N,); raise on an unknown value."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        if len(known_sorted) == 0:
            raise self.error(0, key, f"names {what} {int(values[0])}, absent from the ground truth")
        pos = np.searchsorted(known_sorted, values)
        pos_c = np.minimum(pos, len(known_sorted) - 1)
        bad = known_sorted[pos_c] != values
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise self.error(i, key, f"names {what} {int(values[i])}, absent from the ground truth")
        return pos_c.astype(np.int64)


def _try_array(vals: list[Any]) -> npt.NDArray[Any] | None:
    try:
        return np.array(vals)
    except (ValueError, TypeError, OverflowError):
        return None


def _is_int(v: object, allow_bool: bool = False) -> bool:
    if isinstance(v, bool):
        return allow_bool
    return isinstance(v, int) and -(2**63) <= v < 2**63


def _is_num(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float)


def _short(v: object) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."

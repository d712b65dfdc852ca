"""Parse one big array inside a JSON document in chunks, so no chunk holds every element.

COCO files keep nearly all their bytes in ``"annotations": [...]``. :func:`split_array`
returns the document with that array emptied (parsed normally) and an iterator over the
array's elements in chunks of about ``chunk_bytes``, each parsed with orjson on its own.

Boundaries are candidates found by regular expressions (``}`` ``,`` ``{`` between elements,
``}`` ``]`` at the end) and proved by parsing: a chunk that starts at an element boundary
parses as a JSON array only when it also ends at one, so a candidate inside a string or a
nested object makes a chunk fail to parse. Any surprise raises :class:`NotChunkable`, and
the caller parses the whole document instead.

The document may be a ``bytes`` object or a read-only memory map of the file
(:class:`MappedFile`): the boundaries are then found window by window and each window's
pages are handed back to the kernel behind the scan, so the resident set never holds the
whole file.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

Buffer = bytes | mmap.mmap

_SEP = re.compile(rb"\}\s*,\s*\{")
_END = re.compile(rb"\}\s*\]")
_WS = re.compile(rb"\s*")
_SLACK = 4096
"""How far a match may reach past its window (whitespace inside the key or the end)."""


class NotChunkable(Exception):
    """The document does not have the expected shape; parse it whole instead."""


class MappedFile:
    """A file mapped read-only; :meth:`release` drops pages already read from the RSS.

    Used as a context manager; the map is the ``raw`` attribute (supports slicing and
    regular expressions like ``bytes``).
    """

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            self.raw = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def release(self, start: int, stop: int) -> None:
        """Let the kernel drop the pages wholly inside ``[start, stop)`` (a hint)."""
        page = mmap.PAGESIZE
        a = -(-start // page) * page
        b = min(stop, len(self.raw)) // page * page
        if b > a and hasattr(mmap, "MADV_DONTNEED"):
            self.raw.madvise(mmap.MADV_DONTNEED, a, b - a)

    def __enter__(self) -> MappedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def _no_release(start: int, stop: int) -> None:
    return None


def split_array(
    raw: Buffer,
    key: str,
    chunk_bytes: int = 16 << 20,
    release: Callable[[int, int], None] = _no_release,
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """(document with ``key`` emptied, [(start, end) byte span of each chunk]).

    A chunk ``raw[start:end]`` is a comma-separated run of whole elements (not yet proved:
    :func:`parse_chunk` proves it). Raises NotChunkable when the array cannot be located.
    ``release(start, stop)`` is called for each byte range the scan has finished with.
    """
    pattern = re.compile(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\[')
    found: set[int] = set()
    for a in range(0, len(raw), chunk_bytes):  # windows overlapping by _SLACK bytes
        found.update(m.end() for m in pattern.finditer(raw, a, a + chunk_bytes + _SLACK))
        release(a, a + chunk_bytes)
    if len(found) != 1:
        raise NotChunkable(f"{len(found)} occurrences of {key!r}")
    bracket = found.pop() - 1
    ws = _WS.match(raw, bracket + 1)
    start = ws.end() if ws else bracket + 1
    if raw[start : start + 1] == b"]":
        return _doc(raw, key, bracket, start), []
    if raw[start : start + 1] != b"{":
        raise NotChunkable("array elements are not objects")
    bounds: list[tuple[int, int]] = []
    cur = start
    close = -1
    while True:
        target = cur + chunk_bytes
        m = _SEP.search(raw, target) if target < len(raw) else None
        window_end = m.start() + 1 if m is not None else len(raw)
        # the array's end, if it lies in this window ('}' then ']' closing the last element)
        end_m = _END.search(raw, cur, window_end + _SLACK)
        if end_m is not None and end_m.start() < window_end:
            bounds.append((cur, end_m.start() + 1))
            close = end_m.end() - 1
            release(cur, end_m.start())
            break
        if m is None:
            raise NotChunkable("array end not found")
        bounds.append((cur, m.start() + 1))
        release(cur, m.start())
        cur = m.end() - 1
    doc = _doc(raw, key, bracket, close)
    release(close, len(raw))
    return doc, bounds


def parse_chunk(chunk: bytes) -> list[Any]:
    """The elements of a chunk; NotChunkable when it is not a run of whole elements."""
    try:
        part = orjson.loads(b"[" + chunk + b"]")
    except orjson.JSONDecodeError as exc:
        raise NotChunkable(str(exc)) from None
    if not isinstance(part, list):
        raise NotChunkable("chunk is not an array")
    return part


def _doc(raw: Buffer, key: str, bracket: int, close: int) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw[: bracket + 1] + raw[close:])
    except orjson.JSONDecodeError as exc:
        raise NotChunkable(str(exc)) from None
    if not isinstance(doc, dict) or doc.get(key) != []:
        raise NotChunkable(f"{key!r} is not a top-level key")
    return doc

"""Parse one big array inside a JSON document in chunks, so no chunk holds every element.

COCO files keep nearly all their bytes in ``"annotations": [...]``. :func:`split_array`
returns the document with that array emptied (parsed normally) and an iterator over the
array's elements in chunks of about ``chunk_bytes``, each parsed with orjson on its own.

Boundaries are candidates found by regular expressions (``}`` ``,`` ``{`` between elements,
``}`` ``]`` at the end) and proved by parsing: a chunk that starts at an element boundary
parses as a JSON array only when it also ends at one, so a candidate inside a string or a
nested object makes a chunk fail to parse. Any surprise raises :class:`NotChunkable`, and
the caller parses the whole document instead.

The array's end is found from the end of the file (the text after the array, e.g. COCO's
``categories``, is usually small) and its chunk boundaries by short searches after each
chunk's target size, so the array's bytes are read once, by the caller; the window-by-window
scan is kept for files whose end cannot be recognised that way. The first ``"key": [`` is
taken; another one after the array's end makes it NotChunkable.

The document may be a ``bytes`` object or a read-only memory map of the file
(:class:`MappedFile`), whose pages the caller hands back to the kernel behind its reads,
so the resident set never holds the whole file.
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
    :func:`parse_chunk` or the caller's fast path proves it). Raises NotChunkable when the
    array cannot be located. ``release(start, stop)`` is called for each byte range the
    scan has finished with.

    The array's end is looked for from the end of the file first (:func:`_close_from_tail`:
    the text after the array is usually small), so the array itself is read once, by the
    caller; only when that fails is it scanned window by window.
    """
    bracket = _first_key(raw, key)
    ws = _WS.match(raw, bracket + 1)
    start = ws.end() if ws else bracket + 1
    if raw[start : start + 1] == b"]":
        doc = _doc(raw, key, bracket, start)
        _no_key_after(raw, key, start)
        return doc, []
    if raw[start : start + 1] != b"{":
        raise NotChunkable("array elements are not objects")
    found = _close_from_tail(raw, bracket)
    if found is None:
        return _split_scanning(raw, key, bracket, start, chunk_bytes, release)
    close, last = found
    bounds: list[tuple[int, int]] = []
    cur = start
    while True:
        target = cur + chunk_bytes
        m = _SEP.search(raw, target, last) if target < last else None
        if m is None:
            bounds.append((cur, last))
            break
        bounds.append((cur, m.start() + 1))
        cur = m.end() - 1
    doc = _doc(raw, key, bracket, close)
    _no_key_after(raw, key, close)
    return doc, bounds


def _key_pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\[')


def _first_key(raw: Buffer, key: str) -> int:
    """Offset of the ``[`` after the first ``"key":``; NotChunkable when there is none."""
    pattern, needle = _key_pattern(key), b'"' + key.encode() + b'"'
    at = raw.find(needle)
    while at >= 0:
        m = pattern.match(raw, at)
        if m is not None:
            return m.end() - 1
        at = raw.find(needle, at + 1)
    raise NotChunkable(f"no {key!r} array")


def _no_key_after(raw: Buffer, key: str, close: int) -> None:
    """NotChunkable when ``"key": [`` occurs again after the array (the first occurrence
    was then not the top-level one, or the key is repeated)."""
    pattern, needle = _key_pattern(key), b'"' + key.encode() + b'"'
    at = raw.find(needle, close)
    while at >= 0:
        if pattern.match(raw, at) is not None:
            raise NotChunkable(f"{key!r} occurs twice")
        at = raw.find(needle, at + 1)


_TAIL_TRIES = 1000
_LAST_ELEMENT = 1 << 16
"""Longest last element looked for behind a candidate end (bytes)."""


def _close_from_tail(raw: Buffer, bracket: int) -> tuple[int, int] | None:
    """(offset of the array's ``]``, offset just past its last element), found from the end
    of the file; None when unsure.

    A candidate is a ``]`` after a ``}`` whose following text completes a top-level object
    (``{"":[`` + the text parses); it closes the annotations array when the element just
    before it is an object with an ``image_id``. Any mistake is caught later: the last
    chunk must parse as whole elements.
    """
    pos = len(raw)
    for _ in range(_TAIL_TRIES):
        close = raw.rfind(b"]", bracket + 1, pos)
        if close < 0:
            return None
        pos = close
        j = close - 1
        while j > bracket and raw[j : j + 1] in (b" ", b"\n", b"\r", b"\t"):
            j -= 1
        if raw[j : j + 1] != b"}":
            continue
        try:
            orjson.loads(b'{"":[' + raw[close:])
        except orjson.JSONDecodeError:
            continue
        lo = max(bracket + 1, j - _LAST_ELEMENT)
        seps = list(_SEP.finditer(raw, lo, j + 1))
        if seps:
            first = seps[-1].end() - 1
        elif lo == bracket + 1:
            first = raw.find(b"{", lo, j)
        else:
            return None  # last element too long to find cheaply
        try:
            element = orjson.loads(raw[first : j + 1])
        except orjson.JSONDecodeError:
            continue  # (e.g. a one-element array after ours: the match lay in ours)
        if isinstance(element, dict) and "image_id" in element:
            return close, j + 1
    return None


def _split_scanning(
    raw: Buffer,
    key: str,
    bracket: int,
    start: int,
    chunk_bytes: int,
    release: Callable[[int, int], None],
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """:func:`split_array` by scanning every window of the array for its end."""
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
    _no_key_after(raw, key, close)
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

"""Parse one big array inside a JSON document in chunks, so no chunk holds every element.

COCO files keep nearly all their bytes in ``"annotations": [...]``. :func:`split_array`
returns the document with that array emptied (parsed normally) and an iterator over the
array's elements in chunks of about ``chunk_bytes``, each parsed with orjson on its own.

Boundaries are candidates found by regular expressions (``}`` ``,`` ``{`` between elements,
``}`` ``]`` at the end) and proved by parsing: a chunk that starts at an element boundary
parses as a JSON array only when it also ends at one, so a candidate inside a string or a
nested object makes a chunk fail to parse. Any surprise raises :class:`NotChunkable`, and
the caller parses the whole document instead.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_SEP = re.compile(rb"\}\s*,\s*\{")
_END = re.compile(rb"\}\s*\]")
_WS = re.compile(rb"\s*")


class NotChunkable(Exception):
    """The document does not have the expected shape; parse it whole instead."""


def split_array(
    raw: bytes, key: str, chunk_bytes: int = 16 << 20
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """(document with ``key`` emptied, [(start, end) byte span of each chunk]).

    A chunk ``raw[start:end]`` is a comma-separated run of whole elements (not yet proved:
    :func:`parse_chunk` proves it). Raises NotChunkable when the array cannot be located.
    """
    pattern = re.compile(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\[')
    matches = list(pattern.finditer(raw))
    if len(matches) != 1:
        raise NotChunkable(f"{len(matches)} occurrences of {key!r}")
    bracket = matches[0].end() - 1
    ws = _WS.match(raw, bracket + 1)
    start = ws.end() if ws else bracket + 1
    if raw[start : start + 1] == b"]":
        return _doc(raw, key, bracket, start), []
    if raw[start : start + 1] != b"{":
        raise NotChunkable("array elements are not objects")
    end_m = _END.search(raw, start)
    if end_m is None:
        raise NotChunkable("array end not found")
    stop = end_m.start() + 1  # just after the last element's '}'
    close = end_m.end() - 1  # the ']'
    doc = _doc(raw, key, bracket, close)

    bounds: list[tuple[int, int]] = []
    cur = start
    while cur < stop:
        target = cur + chunk_bytes
        m = _SEP.search(raw, target, stop) if target < stop else None
        if m is None:
            bounds.append((cur, stop))
            break
        bounds.append((cur, m.start() + 1))
        cur = m.end() - 1
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


def _doc(raw: bytes, key: str, bracket: int, close: int) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw[: bracket + 1] + raw[close:])
    except orjson.JSONDecodeError as exc:
        raise NotChunkable(str(exc)) from None
    if not isinstance(doc, dict) or doc.get(key) != []:
        raise NotChunkable(f"{key!r} is not a top-level key")
    return doc

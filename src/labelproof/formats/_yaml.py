"""The small YAML subset of Ultralytics ``data.yaml`` files, read and written without PyYAML.

Read: ``key: scalar``, ``key: [flow, list]`` / ``{flow: map}`` (JSON or Python literal
syntax), and one level of block mapping (``names:\\n  0: person``) or block list
(``names:\\n  - person``). Comments and blank lines are ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import orjson

from labelproof.errors import InvalidDataset


def _scalar(text: str, where: str) -> Any:
    t = text.strip()
    if not t:
        return None
    if t[0] in "[{":
        try:
            return orjson.loads(t)
        except orjson.JSONDecodeError:
            try:
                return ast.literal_eval(t)
            except (ValueError, SyntaxError):
                raise InvalidDataset(f"{where}: cannot read the value {t!r}") from None
    if t[0] in "\"'":
        if t[0] == '"':
            try:
                return orjson.loads(t)
            except orjson.JSONDecodeError:
                raise InvalidDataset(f"{where}: bad quoted string {t!r}") from None
        return t[1:-1].replace("''", "'") if t.endswith("'") and len(t) > 1 else t
    if t in ("null", "~"):
        return None
    if t in ("true", "false"):
        return t == "true"
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def _strip_comment(line: str) -> str:
    out, quote = [], ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out).rstrip()


def load(text: str, path: Path) -> dict[str, Any]:
    """Parse the data.yaml subset; InvalidDataset naming the file and line otherwise."""
    doc: dict[str, Any] = {}
    block_key: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        where = f"{path}: line {n}"
        if line[0] in " \t" and block_key is not None:
            item = line.strip()
            if item.startswith("- "):
                if not isinstance(doc[block_key], list):
                    doc[block_key] = []
                doc[block_key].append(_scalar(item[2:], where))
                continue
            k, sep, v = item.partition(":")
            if not sep:
                raise InvalidDataset(f"{where}: expected 'key: value', got {item!r}")
            if not isinstance(doc[block_key], dict):
                doc[block_key] = {}
            doc[block_key][_scalar(k, where)] = _scalar(v, where)
            continue
        k, sep, v = line.partition(":")
        if not sep or line[0] in " \t":
            raise InvalidDataset(f"{where}: expected 'key: value', got {line.strip()!r}")
        key = k.strip()
        if v.strip():
            doc[key] = _scalar(v, where)
            block_key = None
        else:
            doc[key] = None
            block_key = key
    return doc


def dump(doc: dict[str, Any]) -> str:
    """Write a flat mapping; dict values become block mappings, lists flow JSON lists."""
    lines = ["# written by labelproof"]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {orjson.dumps(v).decode()}" for k, v in value.items())
        elif isinstance(value, str):
            lines.append(f"{key}: {orjson.dumps(value).decode()}")
        else:
            lines.append(f"{key}: {orjson.dumps(value).decode()}")
    return "\n".join(lines) + "\n"

"""Safe input and output: hostile zips, atomic output folders, text, JSON and XML parsing.

Every failure is an ``InvalidDataset`` (or ``InvalidFile``/``FileTooLarge`` for the
container) that names the file and, where known, the line or record.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from labelproof.errors import FileTooLarge, InvalidDataset, InvalidFile, InvalidInput

MAX_UNZIPPED_BYTES = 8 * 2**30
"""Refuse a zip that expands to more than this many bytes in total."""
MAX_ZIP_RATIO = 200.0
"""Refuse a zip member (or a whole zip) that expands more than this many times."""
MAX_ZIP_MEMBERS = 2_000_000


def _check_member(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath:
    name = info.filename
    where = f"{archive}: member {name!r}"
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidFile(f"{where}: absolute or Windows path refused", field="input")
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        raise InvalidFile(f"{where}: '..' in path refused (zip slip)", field="input")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise InvalidFile(f"{where}: symbolic link refused", field="input")
    if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
        raise FileTooLarge(
            f"{where}: compression ratio {info.file_size / info.compress_size:.0f} is over "
            f"{MAX_ZIP_RATIO:.0f} (zip bomb?)",
            field="input",
        )
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract ``archive`` into ``dest``, refusing path tricks, links and zip bombs.

    Sizes are counted on the bytes actually inflated, not on the headers.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidFile(f"{archive}: not a readable zip ({exc})", field="input") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise FileTooLarge(f"{archive}: {len(infos)} members is over the limit", field="input")
        compressed = max(1, os.path.getsize(archive))
        total = 0
        for info in infos:
            rel = _check_member(info, archive)
            target = dest.joinpath(*rel.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        total += len(chunk)
                        if total > MAX_UNZIPPED_BYTES or total / compressed > MAX_ZIP_RATIO:
                            raise FileTooLarge(
                                f"{archive}: expands past {total} bytes "
                                f"(limit {MAX_UNZIPPED_BYTES}, ratio {MAX_ZIP_RATIO:.0f}); "
                                "zip bomb?",
                                field="input",
                            )
                        if written > info.file_size:
                            raise InvalidFile(
                                f"{archive}: member {info.filename!r} is larger than its header "
                                "says",
                                field="input",
                            )
                        out.write(chunk)
            except FileExistsError:
                raise InvalidFile(
                    f"{archive}: member {info.filename!r} appears twice", field="input"
                ) from None
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                if isinstance(exc, FileTooLarge | InvalidFile):
                    raise
                raise InvalidFile(
                    f"{archive}: member {info.filename!r} is damaged ({exc})", field="input"
                ) from None


@contextmanager
def opened_input(path: Path) -> Iterator[Path]:
    """Yield a folder or file to read: ``path`` itself, or a zip extracted to a temp dir."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder", field="input")
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="labelproof-unzip-") as tmp:
            extract_zip(path, Path(tmp))
            root = Path(tmp)
            entries = [p for p in root.iterdir() if not p.name.startswith("__MACOSX")]
            yield entries[0] if len(entries) == 1 and entries[0].is_dir() else root
        return
    yield path


@contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out``; on success it becomes ``out``.

    ``out`` must be absent or an empty folder. On an error nothing is left at ``out``.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out}: output exists and is not an empty folder", field="out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 text (a BOM is allowed); InvalidDataset naming the file and line otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidDataset(
            f"{path}: line {line}: not UTF-8 text (byte {exc.start})", field=str(path)
        ) from None


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidDataset(f"{path}: cannot read ({exc.strerror})", field=str(path)) from None
    return decode_text(raw, path)


def load_json(path: Path, raw: bytes | None = None) -> Any:
    """Parse a JSON file; InvalidDataset with the line and column of a syntax error."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidDataset(f"{path}: cannot read ({exc.strerror})", field=str(path)) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "utf-8" in str(exc).lower() or "surrogate" in str(exc).lower():
            decode_text(raw, path)
        raise InvalidDataset(
            f"{path}: not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}",
            field=str(path),
        ) from None


def parse_xml(path: Path) -> Any:
    """Parse XML with defusedxml: DTDs, entities and external references are refused.

    Returns the root ``Element``. InvalidDataset names the file and line.
    """
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        tree = DET.parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidDataset(
            f"{path}: XML refused: {type(exc).__name__} (DTDs and entities are not allowed)",
            field=str(path),
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise InvalidDataset(
            f"{path}: line {line}: not well-formed XML ({exc})", field=str(path)
        ) from None
    except OSError as exc:
        raise InvalidDataset(f"{path}: cannot read ({exc.strerror})", field=str(path)) from None
    return tree.getroot()


def sniff(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a file (b"" when unreadable)."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""

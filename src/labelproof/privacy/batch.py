"""De-identify a file or a folder tree of DICOM files and photos; one report for all.

Each file is sniffed by content, not by name: the DICOM Part 10 preamble (``DICM`` at byte
128) means DICOM, a JPEG/PNG/TIFF/WebP signature means a photo; anything else is skipped
and listed. A file that fails is listed with its error and the run goes on.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelproof.errors import InvalidFile, InvalidInput, LabelproofError
from labelproof.privacy.dicom import deidentify_dicom, is_dicom
from labelproof.privacy.photo import deidentify_photo

__all__ = ["DeidOptions", "deidentify_bytes", "deidentify_path", "read_project_secret", "sniff"]

_PHOTO_SIGNATURES = (
    (b"\xff\xd8\xff", "photo"),
    (b"\x89PNG\r\n\x1a\n", "photo"),
    (b"II*\x00", "photo"),
    (b"MM\x00*", "photo"),
)


@dataclass(frozen=True)
class DeidOptions:
    """``project_secret`` keys DICOM UID remapping and date offsets (>= 16 bytes)."""

    project_secret: bytes
    blur_faces: bool = False
    blur_plates: bool = False
    shift_dates: bool = False


def sniff(head: bytes) -> str | None:
    """``"dicom"``, ``"photo"`` or None from a file's first 132+ bytes."""
    if is_dicom(head):
        return "dicom"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "photo"
    for signature, kind in _PHOTO_SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def read_project_secret(path: Path | None) -> tuple[bytes, bool]:
    """The secret in ``path`` (surrounding whitespace stripped), or a random one.

    Returns ``(secret, ephemeral)``: with no file the secret is random, so remapped UIDs agree
    only within this run.
    """
    if path is None:
        return secrets.token_bytes(32), True
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read project secret file {path}: {exc.strerror}", field="project_secret_file"
        ) from None
    if len(secret) < 16:
        raise InvalidInput(
            f"project secret in {path} is {len(secret)} bytes; at least 16 are needed",
            field="project_secret_file",
        )
    return secret, False


def deidentify_bytes(data: bytes, options: DeidOptions) -> tuple[bytes, dict[str, Any]]:
    """De-identify one file's bytes; returns the new bytes and its report (a dict)."""
    kind = sniff(data[:132])
    if kind == "dicom":
        out, report = deidentify_dicom(
            data, project_secret=options.project_secret, shift_dates=options.shift_dates
        )
        return out, report.to_dict()
    if kind == "photo":
        photo, photo_report = deidentify_photo(
            data, blur_faces=options.blur_faces, blur_plates=options.blur_plates
        )
        return photo, photo_report.to_dict()
    raise InvalidFile("neither DICOM nor a JPEG/PNG/TIFF/WebP photo", field="file")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def deidentify_path(source: Path, out: Path, options: DeidOptions) -> list[dict[str, Any]]:
    """De-identify ``source`` (a file or a folder, recursively) into ``out``.

    A file goes to ``out`` (or ``out/<name>`` when ``out`` is a folder); a folder's files go
    to the same relative paths under ``out``. Returns one entry per file: ``input``,
    ``output`` and ``report``, or ``input`` and ``error``/``skipped``.
    """
    source, out = Path(source), Path(out)
    if not source.exists():
        raise InvalidInput(f"{source} does not exist", field="input")
    src_real, out_real = source.resolve(), out.resolve()
    if src_real == out_real or (source.is_dir() and out_real.is_relative_to(src_real)):
        raise InvalidInput("the output must not be the input or lie inside it", field="out")
    if source.is_file():
        target = out / source.name if out.is_dir() else out
        pairs = [(source, target, source.name)]
    else:
        pairs = [
            (p, out / p.relative_to(source), str(p.relative_to(source)))
            for p in sorted(source.rglob("*"))
            if p.is_file() and not p.is_symlink()
        ]
    results: list[dict[str, Any]] = []
    for path, target, name in pairs:
        try:
            data = path.read_bytes()
            if sniff(data[:132]) is None:
                results.append({"input": name, "skipped": "not DICOM or a supported photo"})
                continue
            cleaned, report = deidentify_bytes(data, options)
            _write(target, cleaned)
        except LabelproofError as exc:
            results.append({"input": name, "error": exc.message})
        except OSError as exc:
            results.append({"input": name, "error": f"I/O error: {exc.strerror or exc}"})
        else:
            results.append({"input": name, "output": str(target), "report": report})
    return results

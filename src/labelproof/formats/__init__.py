"""Format codecs: read annotation datasets into one in-memory model and write them out.

One module per format (``coco``, ``yolo``, ``cvat``, ``voc``, ``labelstudio``, ``masks``,
``dicomseg``), each declaring the annotation types it carries, registered through the same
function a third-party codec uses (entry-point group ``labelproof.formats``). Every read
and write returns a :class:`LossReport` that says what was dropped or approximated. See
``docs/formats.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelproof.errors import InvalidInput
from labelproof.formats._io import atomic_output, opened_input
from labelproof.formats.model import (
    Annotation,
    AttributeSpec,
    BoxColumns,
    Category,
    Dataset,
    Image,
)
from labelproof.formats.registry import (
    BUILTIN_MODULES,
    DEFAULT_REGISTRY,
    ENTRY_POINT_GROUP,
    Codec,
    CodecRegistry,
)
from labelproof.formats.report import LossReport

REPORT_NAME = "labelproof-loss-report.json"


def get_codec(name: str) -> Codec:
    """The codec called ``name``; InvalidInput listing the known formats otherwise."""
    return DEFAULT_REGISTRY.get(name)


def codec_names() -> list[str]:
    """Names of every registered codec, sorted."""
    return DEFAULT_REGISTRY.names()


def register_codec(obj: Any) -> Codec:
    """Register a codec module or object (plugins); ConfigurationError on a duplicate."""
    return DEFAULT_REGISTRY.register(obj)


def detect_format(path: Path) -> list[tuple[str, float]]:
    """(format, confidence) candidates for ``path`` (a folder or file), best first."""
    return DEFAULT_REGISTRY.detect(path)


def read_dataset(path: Path, fmt: str = "auto") -> tuple[Dataset, LossReport, str, float]:
    """Read ``path`` (folder, file or zip). Returns (dataset, report, format, confidence).

    ``fmt="auto"`` picks the most confident codec; InvalidInput when none recognises it.
    """
    with opened_input(path) as src:
        confidence = 1.0
        if fmt == "auto":
            found = detect_format(src)
            if not found:
                raise InvalidInput(
                    f"{path}: no format recognised it; name one with --from "
                    f"({', '.join(codec_names())})",
                    field="from",
                )
            fmt, confidence = found[0]
        ds, report = get_codec(fmt).read(src)
    return ds, report, fmt, confidence


@dataclass(frozen=True)
class Conversion:
    """The outcome of :func:`convert`: both loss reports and what was detected."""

    source_format: str
    target_format: str
    confidence: float
    read: LossReport
    write: LossReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source_format,
            "to": self.target_format,
            "detected_confidence": self.confidence,
            "read": self.read.to_dict(),
            "write": self.write.to_dict(),
        }


def convert(src: Path, out: Path, *, to: str, source_format: str = "auto") -> Conversion:
    """Read ``src`` and write it as ``to`` into the folder ``out`` (created atomically).

    ``out`` must be absent or empty; on any error nothing is left there. The loss report
    is written as ``out/labelproof-loss-report.json``.
    """
    import orjson

    target = get_codec(to)
    ds, read_report, fmt, confidence = read_dataset(src, source_format)
    with atomic_output(out) as tmp:
        write_report = target.write(ds, tmp)
        result = Conversion(fmt, to, confidence, read_report, write_report)
        (tmp / REPORT_NAME).write_bytes(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2))
    return result


__all__ = [
    "BUILTIN_MODULES",
    "DEFAULT_REGISTRY",
    "ENTRY_POINT_GROUP",
    "REPORT_NAME",
    "Annotation",
    "AttributeSpec",
    "BoxColumns",
    "Category",
    "Codec",
    "CodecRegistry",
    "Conversion",
    "Dataset",
    "Image",
    "LossReport",
    "codec_names",
    "convert",
    "detect_format",
    "get_codec",
    "read_dataset",
    "register_codec",
]

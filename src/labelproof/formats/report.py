"""``LossReport``: what a codec read or wrote, and what it had to drop or approximate."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES = 5


@dataclass
class LossReport:
    """Counts of one read or one write by a codec.

    ``dropped`` and ``approximated`` map a kind (a short sentence such as ``"polygon written
    as box"``) to a count; ``examples`` keeps up to :data:`MAX_EXAMPLES` examples per kind
    (``"image 12 (a.jpg), annotation 7"``). ``notes`` are facts about the conversion that
    are not losses (``"YOLO task: detect"``).
    """

    format: str
    direction: str
    images: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_label: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    approximated: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def annotations(self) -> int:
        """Annotations counted (read or written)."""
        return sum(self.by_type.values())

    @property
    def lossless(self) -> bool:
        return not self.dropped and not self.approximated

    def count(self, type_name: str, label: str, n: int = 1) -> None:
        """Count ``n`` annotations of ``type_name`` and class ``label`` read or written."""
        if n:
            self.by_type[type_name] += n
            self.by_label[label] += n

    def count_many(self, type_name: str, labels: Counter[str]) -> None:
        """Count annotations of one type from a Counter of class names."""
        total = sum(labels.values())
        if total:
            self.by_type[type_name] += total
            self.by_label.update(labels)

    def _note(self, table: Counter[str], kind: str, example: str | None, n: int) -> None:
        table[kind] += n
        if example is not None:
            ex = self.examples.setdefault(kind, [])
            if len(ex) < MAX_EXAMPLES:
                ex.append(example)

    def drop(self, kind: str, example: str | None = None, n: int = 1) -> None:
        """Record ``n`` things of ``kind`` that could not be carried at all."""
        self._note(self.dropped, kind, example, n)

    def approx(self, kind: str, example: str | None = None, n: int = 1) -> None:
        """Record ``n`` things of ``kind`` carried in an approximate or different form."""
        self._note(self.approximated, kind, example, n)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; kinds sorted, each with its count and examples."""

        def table(t: Counter[str]) -> dict[str, Any]:
            return {
                k: {"count": t[k], "examples": list(self.examples.get(k, []))} for k in sorted(t)
            }

        return {
            "format": self.format,
            "direction": self.direction,
            "images": self.images,
            "annotations": self.annotations,
            "by_type": dict(sorted(self.by_type.items())),
            "by_label": dict(sorted(self.by_label.items())),
            "dropped": table(self.dropped),
            "approximated": table(self.approximated),
            "notes": list(self.notes),
        }

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        verb = "read" if self.direction == "read" else "wrote"
        types = ", ".join(f"{k} {v}" for k, v in sorted(self.by_type.items())) or "none"
        lines = [
            f"{self.format}: {verb} {self.images} images, {self.annotations} annotations ({types})"
        ]
        for title, t in (("dropped", self.dropped), ("approximated", self.approximated)):
            for k in sorted(t):
                ex = self.examples.get(k, [])
                tail = f" (e.g. {'; '.join(ex[:2])})" if ex else ""
                lines.append(f"  {title}: {k}: {t[k]}{tail}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return lines


def where(image_id: int, file_name: str, ann: int | None = None) -> str:
    """The example text ``image 3 (a.jpg), annotation 7``."""
    text = f"image {image_id} ({file_name})"
    return text if ann is None else f"{text}, annotation {ann}"

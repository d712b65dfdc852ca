"""The registry of format codecs.

A codec is a module (or any object) with these attributes:

* ``NAME`` (``"coco"``), ``TITLE``; ``READS`` and ``WRITES``: the annotation type names it
  carries; ``CARRIES``: which annotation properties survive a round trip (a subset of
  :data:`PROPERTIES`); ``TOLERANCE``: coordinate error in px a write-read may introduce
  (0.0 when exact);
* ``detect(path) -> float``: confidence in [0, 1] that ``path`` is in this format;
* ``read(path) -> (Dataset, LossReport)`` and ``write(dataset, out_dir) -> LossReport``.

Built-in codecs and third-party ones arrive through the same function,
:meth:`CodecRegistry.register`: built-ins from :data:`BUILTIN_MODULES`, plugins from the
entry-point group ``labelproof.formats`` (the entry point names a module or object as above,
and its name must equal the codec's ``NAME``). Both are loaded lazily, on first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelproof._plugins import iter_plugins
from labelproof.errors import ConfigurationError, InvalidInput
from labelproof.formats.model import Dataset
from labelproof.formats.report import LossReport

ENTRY_POINT_GROUP = "labelproof.formats"

BUILTIN_MODULES: tuple[str, ...] = (
    "labelproof.formats.coco",
    "labelproof.formats.yolo",
    "labelproof.formats.cvat",
    "labelproof.formats.voc",
    "labelproof.formats.labelstudio",
    "labelproof.formats.masks",
    "labelproof.formats.dicomseg",
)

PROPERTIES = frozenset(
    {"attributes", "z_order", "occluded", "crowd", "score", "group", "track", "source", "splits"}
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

EntryPoints = Callable[[], Iterable[importlib.metadata.EntryPoint]]


@dataclass(frozen=True)
class Codec:
    """A registered codec: the declared facts plus its three functions."""

    name: str
    title: str
    reads: frozenset[str]
    writes: frozenset[str]
    carries: frozenset[str]
    tolerance: float
    detect: Callable[[Path], float]
    read: Callable[[Path], tuple[Dataset, LossReport]]
    write: Callable[[Dataset, Path], LossReport]
    source: str = ""


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def as_codec(obj: Any, source: str) -> Codec:
    """Build a :class:`Codec` from a module or object; ConfigurationError naming what is wrong."""
    if isinstance(obj, Codec):
        return obj
    missing = [
        a for a in ("NAME", "READS", "WRITES", "detect", "read", "write") if not hasattr(obj, a)
    ]
    if missing:
        raise ConfigurationError(f"{source} is not a codec: it has no {', '.join(missing)}")
    name = obj.NAME
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"{source}: codec name {name!r} must match {_NAME.pattern} "
            "(lowercase letters, digits, underscores)"
        )
    for fn in ("detect", "read", "write"):
        if not callable(getattr(obj, fn)):
            raise ConfigurationError(f"{source}: {fn} is not callable")
    carries = frozenset(getattr(obj, "CARRIES", ()))
    unknown = sorted(carries - PROPERTIES)
    if unknown:
        raise ConfigurationError(f"{source}: CARRIES names unknown properties {unknown}")
    return Codec(
        name=name,
        title=str(getattr(obj, "TITLE", name)),
        reads=frozenset(obj.READS),
        writes=frozenset(obj.WRITES),
        carries=carries,
        tolerance=float(getattr(obj, "TOLERANCE", 0.0)),
        detect=obj.detect,
        read=obj.read,
        write=obj.write,
        source=source,
    )


class CodecRegistry:
    """Codecs by name, filled lazily from built-in modules and entry points."""

    def __init__(
        self,
        *,
        builtin_modules: Iterable[str] = BUILTIN_MODULES,
        entry_points: EntryPoints = _entry_points,
    ) -> None:
        self._builtin_modules = tuple(builtin_modules)
        self._entry_points = entry_points
        self._codecs: dict[str, Codec] = {}
        self._loaded = False
        self._early: set[str] = set()
        """Built-in modules loaded alone by :meth:`get` before the rest."""
        self._lock = threading.RLock()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            try:
                for codec in iter_plugins(
                    builtin_modules=[m for m in self._builtin_modules if m not in self._early],
                    entry_points=self._entry_points(),
                    group=ENTRY_POINT_GROUP,
                    kind="codec",
                    coerce=as_codec,
                    name_of=lambda c: c.name,
                ):
                    self._add(codec)
            except BaseException:
                self._codecs.clear()
                self._early.clear()
                self._loaded = False
                raise

    def _load_one(self, name: str) -> None:
        """Load only the built-in module of codec ``name`` (``<package>.<name>``), when no
        entry point has that name (then everything is loaded, and the duplicate refused):
        a conversion imports its two codecs, not all of them."""
        with self._lock:
            if self._loaded or name in self._codecs:
                return
            module = next((m for m in self._builtin_modules if m.rpartition(".")[2] == name), None)
            if module is None or any(ep.name == name for ep in self._entry_points()):
                self._load()
                return
            codec = next(
                iter_plugins(
                    builtin_modules=[module],
                    entry_points=[],
                    group=ENTRY_POINT_GROUP,
                    kind="codec",
                    coerce=as_codec,
                    name_of=lambda c: c.name,
                )
            )
            if codec.name != name:  # (a module named unlike its codec: load them all)
                self._load()
                return
            self._codecs[name] = codec
            self._early.add(module)

    def _add(self, codec: Codec) -> None:
        current = self._codecs.get(codec.name)
        if current is not None and current is not codec:
            raise ConfigurationError(
                f"codec {codec.name!r} is registered twice ({current.source} and {codec.source})"
            )
        self._codecs[codec.name] = codec

    def register(self, obj: Any) -> Codec:
        """Add a codec (module, object or :class:`Codec`); ConfigurationError on a duplicate."""
        self._load()
        codec = as_codec(obj, f"register({getattr(obj, '__name__', repr(obj))})")
        with self._lock:
            self._add(codec)
        return codec

    def get(self, name: str) -> Codec:
        """The codec called ``name``; InvalidInput listing the known ones otherwise."""
        if isinstance(name, str):
            self._load_one(name)
        codec = self._codecs.get(name) if isinstance(name, str) else None
        if codec is None:
            raise InvalidInput(
                f"format: unknown format {name!r}; known formats: {', '.join(self.names())}",
                field="format",
            )
        return codec

    def names(self) -> list[str]:
        """Registered codec names, sorted."""
        self._load()
        return sorted(self._codecs)

    def codecs(self) -> list[Codec]:
        return [self._codecs[n] for n in self.names()]

    def detect(self, path: Path) -> list[tuple[str, float]]:
        """(name, confidence) of every codec with confidence > 0, most confident first."""
        scores = []
        for codec in self.codecs():
            try:
                score = float(codec.detect(path))
            except (OSError, ValueError):
                score = 0.0
            if score > 0:
                scores.append((codec.name, min(score, 1.0)))
        return sorted(scores, key=lambda s: (-s[1], s[0]))


DEFAULT_REGISTRY = CodecRegistry()
"""The process-wide codec registry."""

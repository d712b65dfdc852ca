"""The registry of annotation types.

Built-in types and third-party ones arrive through the same function, ``register``:
built-ins from :data:`BUILTIN_MODULES`, plugins from the entry-point group
``labelproof.annotation_types``. Both are loaded lazily, the first time the registry is
used. An entry point names either an ``AnnotationType`` instance, an ``AnnotationType``
subclass (instantiated without arguments) or a module with an ``ANNOTATION_TYPE``
attribute; its name must equal the type's ``name``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from labelproof._plugins import iter_plugins
from labelproof.annotypes._base import AnnotationType
from labelproof.errors import ConfigurationError, InvalidInput

ENTRY_POINT_GROUP = "labelproof.annotation_types"

BUILTIN_MODULES: tuple[str, ...] = (
    "labelproof.annotypes.tag",
    "labelproof.annotypes.box",
    "labelproof.annotypes.rotated_box",
    "labelproof.annotypes.polygon",
    "labelproof.annotypes.polyline",
    "labelproof.annotypes.mask",
    "labelproof.annotypes.keypoints",
    "labelproof.annotypes.cuboid",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

EntryPoints = Callable[[], Iterable[importlib.metadata.EntryPoint]]


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _coerce(obj: Any, source: str) -> AnnotationType:
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "ANNOTATION_TYPE", None)
    if isinstance(obj, type) and issubclass(obj, AnnotationType):
        obj = obj()
    if not isinstance(obj, AnnotationType):
        raise ConfigurationError(
            f"{source} does not give an AnnotationType (got {type(obj).__name__})"
        )
    return obj


class TypeRegistry:
    """A set of annotation types by name, filled lazily from built-ins and entry points.

    Args:
        builtin_modules: modules whose ``ANNOTATION_TYPE`` is registered first.
        entry_points: returns the plugin entry points (default: the installed
            distributions' ``labelproof.annotation_types`` group).
    """

    def __init__(
        self,
        *,
        builtin_modules: Iterable[str] = BUILTIN_MODULES,
        entry_points: EntryPoints = _entry_points,
    ) -> None:
        self._builtin_modules = tuple(builtin_modules)
        self._entry_points = entry_points
        self._types: dict[str, AnnotationType] = {}
        self._loaded = False
        self._lock = threading.RLock()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True  # re-entrant register() calls during loading add directly
            try:
                for t in iter_plugins(
                    builtin_modules=self._builtin_modules,
                    entry_points=self._entry_points(),
                    group=ENTRY_POINT_GROUP,
                    kind="type",
                    coerce=_coerce,
                    name_of=lambda t: t.name,
                ):
                    self._add(t)
            except BaseException:
                self._types.clear()
                self._loaded = False
                raise

    def _add(self, t: AnnotationType) -> None:
        name = getattr(t, "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"annotation type name {name!r} must match {_NAME.pattern} "
                "(lowercase letters, digits, underscores)"
            )
        for attr in ("title", "needs_skeleton"):
            if not hasattr(t, attr):
                raise ConfigurationError(f"annotation type {name!r} has no {attr!r}")
        current = self._types.get(name)
        if current is t:
            return
        if current is not None:
            raise ConfigurationError(
                f"annotation type {name!r} is registered twice "
                f"({type(current).__module__}.{type(current).__qualname__} and "
                f"{type(t).__module__}.{type(t).__qualname__})"
            )
        self._types[name] = t

    def register(self, t: AnnotationType) -> None:
        """Add a type; ConfigurationError on a bad or duplicate name."""
        self._load()
        with self._lock:
            self._add(_coerce(t, f"register_type({t!r})"))

    def get(self, name: str) -> AnnotationType:
        """The type called ``name``; InvalidInput naming it and the known types otherwise."""
        self._load()
        t = self._types.get(name) if isinstance(name, str) else None
        if t is None:
            raise InvalidInput(
                f"type: unknown annotation type {name!r}; known types: {', '.join(self.names())}",
                field="type",
            )
        return t

    def names(self) -> list[str]:
        """Registered type names, sorted."""
        self._load()
        return sorted(self._types)


DEFAULT_REGISTRY = TypeRegistry()
"""The process-wide registry used by the module-level functions."""

"""Loading registry entries the way a third-party plugin is loaded.

The annotation type registry and the codec registry both load their built-in modules and
then the entry points of their group through :func:`iter_plugins`, so a built-in and a
plugin take exactly the same path.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint
from typing import Any, TypeVar

from labelproof.errors import ConfigurationError

T = TypeVar("T")


def iter_plugins(
    *,
    builtin_modules: Iterable[str],
    entry_points: Iterable[EntryPoint],
    group: str,
    kind: str,
    coerce: Callable[[Any, str], T],
    name_of: Callable[[T], str],
) -> Iterator[T]:
    """Yield each built-in module, then each entry point of ``group``, coerced.

    ``coerce(obj, source)`` turns a loaded object into a registry entry (raising
    ``ConfigurationError`` naming ``source``); an entry point must be named after the
    ``kind`` of thing it gives.
    """
    for module_name in builtin_modules:
        module = importlib.import_module(module_name)
        yield coerce(module, f"built-in module {module_name}")
    for ep in entry_points:
        source = f"entry point {ep.name!r} ({ep.value}) in {group}"
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ConfigurationError(f"{source} failed to load: {exc}") from exc
        item = coerce(loaded, source)
        if name_of(item) != ep.name:
            raise ConfigurationError(
                f"{source} gives the {kind} {name_of(item)!r}; the entry point must be "
                f"named after its {kind}"
            )
        yield item

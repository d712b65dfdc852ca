"""Plugins: entry points in ``labelproof.annotation_types`` go through register_type."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import labelproof.annotypes as annotypes
from labelproof.annotypes import (
    BUILTIN_MODULES,
    ENTRY_POINT_GROUP,
    AnnotationType,
    ImageSize,
    Skeleton,
    TypeRegistry,
)
from labelproof.annotypes import _checks as c
from labelproof.errors import ConfigurationError

PLUGIN_MODULE = "labelproof_fake_plugin"


class PointType(AnnotationType):
    """A one-point type, as a third party would write it."""

    name: ClassVar[str] = "point"
    title: ClassVar[str] = "Point"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        g = c.mapping(geometry, field, required=("x", "y"))
        return {"x": c.number(g["x"], f"{field}.x"), "y": c.number(g["y"], f"{field}.y")}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float]:
        g = self.validate(geometry)
        return (g["x"], g["y"], g["x"], g["y"])

    def area(self, geometry: Any) -> float:
        return 0.0

    def example(self) -> dict[str, Any]:
        return {"x": 1.0, "y": 2.0}


class BadNameType(PointType):
    name: ClassVar[str] = "Bad Name"


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(PLUGIN_MODULE)
    module.PointType = PointType  # type: ignore[attr-defined]
    module.BadNameType = BadNameType  # type: ignore[attr-defined]
    module.POINT = PointType()  # type: ignore[attr-defined]
    module.ANNOTATION_TYPE = module.POINT  # type: ignore[attr-defined]
    module.NOT_A_TYPE = 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN_MODULE, module)
    return module


def _fake_entry_points(
    monkeypatch: pytest.MonkeyPatch, *pairs: tuple[str, str]
) -> list[tuple[str | None, str | None]]:
    """Make importlib.metadata.entry_points return ``pairs`` for our group; log calls."""
    calls: list[tuple[str | None, str | None]] = []
    eps = [importlib.metadata.EntryPoint(n, v, ENTRY_POINT_GROUP) for n, v in pairs]

    def entry_points(**kwargs: Any) -> Iterator[importlib.metadata.EntryPoint]:
        calls.append((kwargs.get("group"), kwargs.get("name")))
        return iter(eps if kwargs.get("group") == ENTRY_POINT_GROUP else [])

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return calls


@pytest.mark.parametrize(
    "target",
    [f"{PLUGIN_MODULE}:PointType", f"{PLUGIN_MODULE}:POINT", PLUGIN_MODULE],
    ids=["class", "instance", "module"],
)
def test_entry_point_plugin_is_loaded_lazily(
    monkeypatch: pytest.MonkeyPatch, plugin_module: types.ModuleType, target: str
) -> None:
    calls = _fake_entry_points(monkeypatch, ("point", target))
    registry = TypeRegistry()
    monkeypatch.setattr(annotypes, "DEFAULT_REGISTRY", registry)
    assert calls == []  # nothing loaded until the registry is used
    assert "point" in annotypes.type_names()
    assert calls == [(ENTRY_POINT_GROUP, None)]
    assert annotypes.validate("point", {"x": 3, "y": 4}) == {"x": 3.0, "y": 4.0}
    assert isinstance(annotypes.get_type("point"), PointType)
    assert len(annotypes.type_names()) == len(BUILTIN_MODULES) + 1
    assert calls == [(ENTRY_POINT_GROUP, None)]  # loaded once


def test_register_type_adds_to_the_default_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch)
    monkeypatch.setattr(annotypes, "DEFAULT_REGISTRY", TypeRegistry())
    annotypes.register_type(PointType())
    assert annotypes.get_type("point").to_json({"y": 1, "x": 2}) == '{"x":2.0,"y":1.0}'
    with pytest.raises(ConfigurationError, match="'point' is registered twice"):
        annotypes.register_type(PointType())


def test_builtins_come_from_the_module_list(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch)
    registry = TypeRegistry(builtin_modules=["labelproof.annotypes.box"])
    assert registry.names() == ["box"]


@pytest.mark.parametrize(
    ("pairs", "fragment"),
    [
        ((("box", f"{PLUGIN_MODULE}:PointType"),), "gives the type 'point'"),
        ((("point", f"{PLUGIN_MODULE}:NOT_A_TYPE"),), "does not give an AnnotationType"),
        ((("point", f"{PLUGIN_MODULE}:Missing"),), "failed to load"),
        ((("point", "labelproof_no_such_module:X"),), "failed to load"),
        ((("Bad Name", f"{PLUGIN_MODULE}:BadNameType"),), "must match"),
        (
            (("point", f"{PLUGIN_MODULE}:PointType"), ("point", f"{PLUGIN_MODULE}:POINT")),
            "registered twice",
        ),
    ],
)
def test_broken_plugins_are_configuration_errors(
    monkeypatch: pytest.MonkeyPatch,
    plugin_module: types.ModuleType,
    pairs: tuple[tuple[str, str], ...],
    fragment: str,
) -> None:
    _fake_entry_points(monkeypatch, *pairs)
    registry = TypeRegistry()
    with pytest.raises(ConfigurationError) as info:
        registry.names()
    assert fragment in info.value.message
    # a failed load leaves nothing half-registered, and is retried on the next use
    with pytest.raises(ConfigurationError):
        registry.get("box")


def test_plugin_cannot_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeBox(PointType):
        name: ClassVar[str] = "box"

    _fake_entry_points(monkeypatch)
    registry = TypeRegistry()
    with pytest.raises(ConfigurationError, match="'box' is registered twice"):
        registry.register(FakeBox())


def test_real_entry_point_group_is_queried() -> None:
    # the installed distribution declares no plugins: the default registry is the built-ins
    registry = TypeRegistry()
    assert registry.names() == sorted(m.rsplit(".", 1)[1] for m in BUILTIN_MODULES)

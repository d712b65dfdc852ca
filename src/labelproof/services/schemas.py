"""Label schemas: versioned lists of classes, their allowed types, attributes and skeletons.

A schema definition is JSON::

    {"classes": [
        {"name": "car", "types": ["box", "polygon"],
         "attributes": [{"name": "occluded", "kind": "bool"},
                        {"name": "color", "kind": "select", "options": ["red", "blue"],
                         "required": true}]},
        {"name": "person", "types": ["keypoints"],
         "skeleton": {"keypoints": ["head", "hip"], "edges": [[0, 1]]}}]}

Attribute kinds: ``text``, ``number``, ``bool``, ``select``. A class that allows
``keypoints`` must define a skeleton. Versions are appended, never edited.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof import annotypes
from labelproof.errors import InvalidGeometry, InvalidInput, NotFound
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.store.models import SchemaVersion

ATTRIBUTE_KINDS = ("text", "number", "bool", "select")
_CLASS_KEYS = {"name", "types", "attributes", "skeleton", "color", "description"}
_ATTR_KEYS = {"name", "kind", "options", "required", "default"}


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def _check_attribute(attr: Any, field: str) -> dict[str, Any]:
    if not isinstance(attr, dict):
        raise _fail(field, "must be an object")
    unknown = sorted(set(attr) - _ATTR_KEYS)
    if unknown:
        raise _fail(field, f"unknown keys {unknown}")
    name = attr.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _fail(f"{field}.name", "must be a non-empty string of at most 100 characters")
    kind = attr.get("kind")
    if kind not in ATTRIBUTE_KINDS:
        raise _fail(f"{field}.kind", f"must be one of {list(ATTRIBUTE_KINDS)}, got {kind!r}")
    out: dict[str, Any] = {"name": name, "kind": kind, "required": bool(attr.get("required"))}
    if kind == "select":
        options = attr.get("options")
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) and o for o in options)
            or len(set(options)) != len(options)
        ):
            raise _fail(f"{field}.options", "a select needs a list of distinct non-empty strings")
        out["options"] = options
    elif "options" in attr:
        raise _fail(f"{field}.options", f"only a select attribute has options, not {kind!r}")
    return out


def validate_definition(definition: Any) -> dict[str, Any]:
    """Return the canonical schema definition or raise InvalidInput naming the field."""
    if not isinstance(definition, dict) or not isinstance(definition.get("classes"), list):
        raise _fail("definition", "must be an object with a list 'classes'")
    classes = definition["classes"]
    if not classes:
        raise _fail("definition.classes", "must hold at least one class")
    seen: set[str] = set()
    out = []
    known_types = annotypes.type_names()
    for i, cls in enumerate(classes):
        field = f"definition.classes[{i}]"
        if not isinstance(cls, dict):
            raise _fail(field, "must be an object")
        unknown = sorted(set(cls) - _CLASS_KEYS)
        if unknown:
            raise _fail(field, f"unknown keys {unknown}")
        name = cls.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise _fail(f"{field}.name", "must be a non-empty string of at most 100 characters")
        if name in seen:
            raise _fail(f"{field}.name", f"duplicate class name {name!r}")
        seen.add(name)
        types = cls.get("types")
        if not isinstance(types, list) or not types:
            raise _fail(f"{field}.types", "must be a non-empty list of annotation types")
        for j, t in enumerate(types):
            if t not in known_types:
                raise _fail(f"{field}.types[{j}]", f"unknown type {t!r}; known: {known_types}")
        attrs = cls.get("attributes", [])
        if not isinstance(attrs, list):
            raise _fail(f"{field}.attributes", "must be a list")
        checked = [_check_attribute(a, f"{field}.attributes[{k}]") for k, a in enumerate(attrs)]
        names = [a["name"] for a in checked]
        if len(set(names)) != len(names):
            raise _fail(f"{field}.attributes", "attribute names must be distinct")
        entry: dict[str, Any] = {
            "name": name,
            "types": list(dict.fromkeys(types)),
            "attributes": checked,
        }
        if "keypoints" in types:
            if cls.get("skeleton") is None:
                raise _fail(f"{field}.skeleton", "a class that allows keypoints needs a skeleton")
            try:
                entry["skeleton"] = annotypes.Skeleton.from_json(cls["skeleton"]).to_json()
            except (InvalidInput, InvalidGeometry) as exc:
                raise _fail(f"{field}.skeleton", exc.message) from exc
        elif cls.get("skeleton") is not None:
            raise _fail(f"{field}.skeleton", "only a class that allows keypoints has a skeleton")
        if isinstance(cls.get("color"), str):
            entry["color"] = cls["color"]
        out.append(entry)
    return {"classes": out}


def create_version(
    db: Session, actor: Actor, *, project_id: int, definition: Any, note: str = ""
) -> SchemaVersion:
    authorize(db, actor, project_id, Action.SCHEMA_WRITE)
    canonical = validate_definition(definition)
    current = db.scalar(
        select(func.max(SchemaVersion.version)).where(SchemaVersion.project_id == project_id)
    )
    version = SchemaVersion(
        project_id=project_id,
        version=(current or 0) + 1,
        definition=canonical,
        note=note,
        created_by=actor.user_id,
    )
    db.add(version)
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.SCHEMA_VERSION_CREATED,
            "schema_version",
            str(version.id),
            actor.user_id,
            actor.request_id,
            project_id,
            {"version": version.version},
        ),
    )
    return version


def list_versions(db: Session, actor: Actor, *, project_id: int) -> list[SchemaVersion]:
    authorize(db, actor, project_id, Action.SCHEMA_READ)
    return list(
        db.scalars(
            select(SchemaVersion)
            .where(SchemaVersion.project_id == project_id)
            .order_by(SchemaVersion.version)
        )
    )


def latest_version(db: Session, project_id: int) -> SchemaVersion:
    version = db.scalar(
        select(SchemaVersion)
        .where(SchemaVersion.project_id == project_id)
        .order_by(SchemaVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise InvalidInput(
            f"project {project_id} has no label schema yet; create a schema version first",
            field="schema",
        )
    return version


def get_version(db: Session, actor: Actor, *, project_id: int, version: int) -> SchemaVersion:
    authorize(db, actor, project_id, Action.SCHEMA_READ)
    row = db.scalar(
        select(SchemaVersion).where(
            SchemaVersion.project_id == project_id, SchemaVersion.version == version
        )
    )
    if row is None:
        raise NotFound(f"schema version {version} of project {project_id} not found")
    return row


def check_attributes(cls: dict[str, Any], values: Any, field: str) -> dict[str, Any]:
    """Validate annotation attribute values against a class's attribute definitions."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise _fail(field, "must be an object")
    defs = {a["name"]: a for a in cls.get("attributes", [])}
    unknown = sorted(set(values) - set(defs))
    if unknown:
        raise _fail(field, f"class {cls['name']!r} has no attributes {unknown}")
    out: dict[str, Any] = {}
    for name, spec in defs.items():
        path = f"{field}.{name}"
        if name not in values or values[name] is None:
            if spec["required"]:
                raise _fail(path, f"required attribute of class {cls['name']!r} is missing")
            continue
        v = values[name]
        kind = spec["kind"]
        if kind == "bool" and not isinstance(v, bool):
            raise _fail(path, f"must be true or false, got {v!r}")
        if kind == "number" and (
            isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        ):
            raise _fail(path, f"must be a finite number, got {v!r}")
        if kind == "text" and (not isinstance(v, str) or len(v) > 10_000):
            raise _fail(path, "must be a string of at most 10000 characters")
        if kind == "select" and v not in spec["options"]:
            raise _fail(path, f"must be one of {spec['options']}, got {v!r}")
        out[name] = v
    return out

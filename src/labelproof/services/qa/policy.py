"""Quality policies and SOP versions of a project, both appended, never edited.

A project without a policy works under :data:`DEFAULTS` (version 0); without an SOP it has
version 0: no guidelines and an empty self-check checklist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput, NotFound
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.events import QaAuditAction, audit
from labelproof.store.models import Asset
from labelproof.store.qa_models import QaPolicy, QaSopVersion

BELOW_BAR_ACTIONS = ("requalify", "pause", "more_review")

DEFAULTS: dict[str, Any] = {
    "peer_review": True,
    "lead_audit": True,
    "audit_rate": 0.1,
    "consensus_k": 3,
    "gold_rate": 0.1,
    "accuracy_bar": 0.98,
    "agreement_bar": 0.8,
    "iou_threshold": 0.5,
    "claim_ttl_s": 3600,
    "below_bar_action": "requalify",
    "require_qualification": True,
    "min_gold_scored": 1,
    "audit_seed": "",
    "gold_seed": "",
}

_RATES = ("audit_rate", "gold_rate", "accuracy_bar", "agreement_bar")
_ITEM_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Policy:
    """The settings in force (``version`` 0 = defaults, no policy set yet)."""

    version: int
    settings: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]


def unit_hash(seed: str, *parts: object) -> float:
    """A number in [0, 1) from SHA-256 of ``seed`` and ``parts``: deterministic sampling."""
    text = ":".join([seed, *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0**64


def validate_settings(raw: Any, base: dict[str, Any]) -> dict[str, Any]:
    """Settings on top of ``base``; InvalidInput names ``settings.<key>``."""
    if not isinstance(raw, dict):
        raise InvalidInput("settings: must be an object", field="settings")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise InvalidInput(
            f"settings: unknown keys {unknown}; known: {sorted(DEFAULTS)}", field="settings"
        )
    out = dict(base)
    out.update(raw)
    for key in ("peer_review", "lead_audit", "require_qualification"):
        if not isinstance(out[key], bool):
            raise InvalidInput(f"settings.{key}: must be true or false", field=f"settings.{key}")
    for key in _RATES:
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            raise InvalidInput(
                f"settings.{key}: must be a number in [0, 1], got {v!r}", field=f"settings.{key}"
            )
        out[key] = float(v)
    iou = out["iou_threshold"]
    if isinstance(iou, bool) or not isinstance(iou, int | float) or not 0 < iou <= 1:
        raise InvalidInput(
            f"settings.iou_threshold: must be in (0, 1], got {iou!r}",
            field="settings.iou_threshold",
        )
    out["iou_threshold"] = float(iou)
    for key, low, high in (
        ("consensus_k", 2, 20),
        ("claim_ttl_s", 1, 30 * 86400),
        ("min_gold_scored", 1, 10_000),
    ):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise InvalidInput(
                f"settings.{key}: must be an integer in [{low}, {high}], got {v!r}",
                field=f"settings.{key}",
            )
    if out["below_bar_action"] not in BELOW_BAR_ACTIONS:
        raise InvalidInput(
            f"settings.below_bar_action: must be one of {list(BELOW_BAR_ACTIONS)}, "
            f"got {out['below_bar_action']!r}",
            field="settings.below_bar_action",
        )
    for key in ("audit_seed", "gold_seed"):
        v = out[key]
        if not isinstance(v, str) or len(v) > 64:
            raise InvalidInput(
                f"settings.{key}: must be a string of at most 64 characters",
                field=f"settings.{key}",
            )
        if not v:
            out[key] = secrets.token_hex(16)
    return out


def current_policy(db: Session, project_id: int) -> Policy:
    row = db.scalar(
        select(QaPolicy)
        .where(QaPolicy.project_id == project_id)
        .order_by(QaPolicy.version.desc())
        .limit(1)
    )
    if row is None:
        return Policy(0, dict(DEFAULTS))
    return Policy(row.version, dict(row.settings))


def set_policy(
    db: Session, actor: Actor, *, project_id: int, settings: Any, note: str = ""
) -> QaPolicy:
    """Append a policy version: the given settings on top of the current ones."""
    authorize(db, actor, project_id, Action.POLICY_WRITE)
    current = current_policy(db, project_id)
    base = dict(current.settings)
    if current.version == 0:
        base["audit_seed"] = base["gold_seed"] = ""
    checked = validate_settings(settings, base)
    row = QaPolicy(
        project_id=project_id,
        version=current.version + 1,
        settings=checked,
        note=note,
        created_by=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit(
        db,
        actor,
        QaAuditAction.POLICY_SET,
        "qa_policy",
        row.id,
        project_id,
        {"version": row.version},
    )
    return row


def get_policy(db: Session, actor: Actor, *, project_id: int) -> Policy:
    authorize(db, actor, project_id, Action.QA_READ)
    return current_policy(db, project_id)


def _checklist(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or len(raw) > 100:
        raise InvalidInput("checklist: must be a list of at most 100 items", field="checklist")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        field = f"checklist[{i}]"
        if isinstance(item, str):
            item = {"id": f"item-{i + 1}", "text": item}
        if not isinstance(item, dict) or set(item) - {"id", "text"}:
            raise InvalidInput(f"{field}: must be a string or {{id, text}}", field=field)
        item_id, text = item.get("id"), item.get("text")
        if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
            raise InvalidInput(
                f"{field}.id: 1-64 characters of A-Z a-z 0-9 . _ -", field=f"{field}.id"
            )
        if item_id in seen:
            raise InvalidInput(f"{field}.id: duplicate item id {item_id!r}", field=f"{field}.id")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise InvalidInput(f"{field}.text: 1-2000 characters", field=f"{field}.text")
        seen.add(item_id)
        out.append({"id": item_id, "text": text})
    return out


def current_sop(db: Session, project_id: int) -> QaSopVersion | None:
    return db.scalar(
        select(QaSopVersion)
        .where(QaSopVersion.project_id == project_id)
        .order_by(QaSopVersion.version.desc())
        .limit(1)
    )


def current_sop_version(db: Session, project_id: int) -> int:
    sop = current_sop(db, project_id)
    return sop.version if sop is not None else 0


def publish_sop(
    db: Session,
    actor: Actor,
    *,
    project_id: int,
    guidelines: str,
    checklist: Any = (),
    example_asset_ids: Any = (),
    changelog: str = "",
    escalation_id: int | None = None,
) -> QaSopVersion:
    """Append an SOP version (guidelines, examples, changelog, self-check checklist)."""
    authorize(db, actor, project_id, Action.SOP_WRITE)
    if not isinstance(guidelines, str) or not guidelines.strip() or len(guidelines) > 200_000:
        raise InvalidInput("guidelines: 1-200000 characters", field="guidelines")
    items = _checklist(list(checklist))
    examples = list(example_asset_ids)
    if any(isinstance(a, bool) or not isinstance(a, int) for a in examples):
        raise InvalidInput("example_asset_ids: must be asset ids", field="example_asset_ids")
    if examples:
        found = set(
            db.scalars(
                select(Asset.id).where(Asset.project_id == project_id, Asset.id.in_(examples))
            )
        )
        for i, a in enumerate(examples):
            if a not in found:
                raise NotFound(f"asset {a} not found", field=f"example_asset_ids[{i}]")
    version = (
        db.scalar(
            select(func.max(QaSopVersion.version)).where(QaSopVersion.project_id == project_id)
        )
        or 0
    ) + 1
    row = QaSopVersion(
        project_id=project_id,
        version=version,
        guidelines=guidelines,
        example_asset_ids=examples,
        changelog=changelog,
        checklist=items,
        escalation_id=escalation_id,
        created_by=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit(
        db, actor, QaAuditAction.SOP_PUBLISHED, "qa_sop", row.id, project_id, {"version": version}
    )
    return row


def list_sops(db: Session, actor: Actor, *, project_id: int) -> list[QaSopVersion]:
    authorize(db, actor, project_id, Action.PROJECT_READ)
    return list(
        db.scalars(
            select(QaSopVersion)
            .where(QaSopVersion.project_id == project_id)
            .order_by(QaSopVersion.version)
        )
    )


def get_current_sop(db: Session, actor: Actor, *, project_id: int) -> QaSopVersion:
    authorize(db, actor, project_id, Action.PROJECT_READ)
    sop = current_sop(db, project_id)
    if sop is None:
        raise NotFound(f"project {project_id} has no SOP yet")
    return sop

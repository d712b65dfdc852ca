"""Per-project de-identification policy, applied to every image at ingest.

A project's policy is ``{"photos": "off" | "strip_metadata", "blur_faces": bool,
"blur_plates": bool, "dicom": "off" | "basic_profile" | "basic_profile_shift_dates"}``.
Projects classified ``pii``, ``phi`` or ``cui`` default to ``strip_metadata`` and
``basic_profile``, the others to ``off``; a project created before the policy existed (its
column is NULL), or before it had the ``dicom`` key, follows the same default. DICOM uploads
follow ``dicom`` only (the PS3.15 basic profile, services/dicom.py); every other image
follows ``photos``. When the policy is on, each staged upload is re-encoded by
:func:`labelproof.privacy.deidentify_photo` before it is stored, so the blob the store keeps
(and hashes) is the cleaned image; the asset keeps the report, which names what was removed
and the regions blurred (boxes in pixels), never a metadata value.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.permissions import Action, authorize
from labelproof.store.models import Project

if TYPE_CHECKING:
    from labelproof.services.assets import CheckedUpload

__all__ = [
    "DICOM_MODES",
    "PHOTO_MODES",
    "SENSITIVE",
    "default_policy",
    "deidentify_upload",
    "parse_policy",
    "policy_of",
    "set_policy",
]

PHOTO_MODES = ("off", "strip_metadata")
#: ``basic_profile_shift_dates``: the basic profile with the Retain Longitudinal Temporal
#: Information with Modified Dates option (dates move back by a per-patient offset).
DICOM_MODES = ("off", "basic_profile", "basic_profile_shift_dates")
SENSITIVE = frozenset({"pii", "phi", "cui"})
_KEYS = {"photos", "blur_faces", "blur_plates", "dicom"}
#: Formats that :func:`labelproof.privacy.deidentify_photo` re-encodes.
_CLEANABLE = frozenset({"JPEG", "PNG", "TIFF", "WEBP"})


def default_policy(classification: str) -> dict[str, Any]:
    """The policy a project of ``classification`` gets unless one is given."""
    photos = "strip_metadata" if classification in SENSITIVE else "off"
    dicom = "basic_profile" if classification in SENSITIVE else "off"
    return {"photos": photos, "blur_faces": False, "blur_plates": False, "dicom": dicom}


def parse_policy(
    value: Any, *, field: str = "deid_policy", classification: str | None = None
) -> dict[str, Any]:
    """Validate a policy object; missing keys take ``off``/``False``, except ``dicom``
    (missing or null), which takes the default of ``classification`` when it is given.
    Blurring needs ``photos`` on (the re-encode is what carries the blurred pixels)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be an object, got {type(value).__name__}", field=field)
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise InvalidInput(
            f"{field} has unknown keys {unknown}; allowed {sorted(_KEYS)}", field=field
        )
    photos = value.get("photos", "off")
    if photos not in PHOTO_MODES:
        raise InvalidInput(
            f"photos must be one of {list(PHOTO_MODES)}, got {photos!r}", field=f"{field}.photos"
        )
    out: dict[str, Any] = {"photos": photos}
    for key in ("blur_faces", "blur_plates"):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            raise InvalidInput(f"{key} must be true or false, got {flag!r}", field=f"{field}.{key}")
        if flag and photos == "off":
            raise InvalidInput(
                f"{key} needs photos 'strip_metadata' (blurring re-encodes the image)",
                field=f"{field}.{key}",
            )
        out[key] = flag
    dicom = value.get("dicom")
    if dicom is None:
        dicom = default_policy(classification)["dicom"] if classification else "off"
    if dicom not in DICOM_MODES:
        raise InvalidInput(
            f"dicom must be one of {list(DICOM_MODES)}, got {dicom!r}", field=f"{field}.dicom"
        )
    out["dicom"] = dicom
    return out


def policy_of(project: Project) -> dict[str, Any]:
    """The project's effective policy (its stored one, else its classification's default)."""
    stored = project.deid_policy
    if not stored:
        return default_policy(project.classification)
    policy = dict(stored)
    policy.setdefault("dicom", default_policy(project.classification)["dicom"])
    return policy


def set_policy(
    db: Session, actor: Actor, *, project_id: int, policy: dict[str, Any]
) -> dict[str, Any]:
    """Replace a project's policy (program managers and admins); the change is audited."""
    project = authorize(db, actor, project_id, Action.DEID_POLICY_WRITE)
    parsed = parse_policy(policy, classification=project.classification)
    before = policy_of(project)
    project.deid_policy = parsed
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.DEID_POLICY_SET,
            "project",
            str(project_id),
            actor.user_id,
            actor.request_id,
            project_id,
            {"before": before, "after": parsed},
        ),
    )
    return parsed


def deidentify_upload(rt: Runtime, upload: CheckedUpload, policy: dict[str, Any]) -> CheckedUpload:
    """De-identify a staged upload under ``policy``; the original staging copy is discarded.

    Returns ``upload`` unchanged when the policy is off. Otherwise the cleaned bytes are
    staged anew (new SHA-256 and size), re-inspected (width and height of the output), and the
    result carries the report as a plain dict.
    """
    from labelproof.privacy import deidentify_photo
    from labelproof.services.images import inspect_image

    if policy.get("photos", "off") == "off":
        return upload
    if upload.info.format not in _CLEANABLE:
        report: dict[str, Any] = {
            "kind": "photo",
            "format": upload.info.format,
            "removed": [],
            "regions": [],
            "warnings": [f"format {upload.info.format} is stored as uploaded (not re-encoded)"],
        }
        return replace(upload, deid=report)
    data = upload.staged.path.read_bytes()
    cleaned, photo = deidentify_photo(
        data, blur_faces=bool(policy.get("blur_faces")), blur_plates=bool(policy.get("blur_plates"))
    )
    staged = rt.blobs.stage(
        io.BytesIO(cleaned), max_bytes=max(rt.settings.max_upload_bytes, len(cleaned))
    )
    try:
        info = inspect_image(
            staged.path, filename=upload.info.filename, max_pixels=rt.settings.max_pixels
        )
    except BaseException:
        rt.blobs.discard(staged)
        raise
    rt.blobs.discard(upload.staged)
    report = photo.to_dict()
    report["policy"] = dict(policy)
    return replace(upload, staged=staged, info=info, deid=report)

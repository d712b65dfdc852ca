"""Request and response bodies of the HTTP API (separate from the store's tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class UserOut(Out):
    id: int
    org_id: int
    email: str
    display_name: str
    is_org_admin: bool
    locked: bool = False


class SessionOut(BaseModel):
    user: UserOut
    expires_at: datetime


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    expires_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(Out):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, never again.")


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=63)


class OrgOut(Out):
    id: int
    name: str
    slug: str


class UserIn(BaseModel):
    email: str = Field(max_length=320)
    display_name: str = Field(default="", max_length=200)
    password: str = Field(min_length=12, max_length=1000)
    is_org_admin: bool = False
    org_id: int | None = None


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    vertical: str = "general"
    classification: str = "internal"
    #: De-identification at ingest; omitted = the classification's default.
    deid_policy: dict[str, Any] | None = None


class ProjectOut(Out):
    id: int
    org_id: int
    name: str
    description: str
    vertical: str
    classification: str
    created_at: datetime
    role: str
    deid_policy: dict[str, Any] | None = None


class DeidPolicyIn(BaseModel):
    photos: str = "off"
    blur_faces: bool = False
    blur_plates: bool = False
    #: "off" | "basic_profile" | "basic_profile_shift_dates"; null or absent: the default of
    #: the project's classification.
    dicom: str | None = None


class DeidPolicyOut(BaseModel):
    photos: str
    blur_faces: bool
    blur_plates: bool
    dicom: str = "off"


class MemberIn(BaseModel):
    user_id: int
    role: str


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: str


class SchemaIn(BaseModel):
    definition: dict[str, Any]
    note: str = Field(default="", max_length=20_000)


class SchemaOut(Out):
    id: int
    project_id: int
    version: int
    definition: dict[str, Any]
    note: str
    created_at: datetime


class AssetOut(Out):
    id: int
    project_id: int
    sha256: str
    filename: str
    media_type: str
    size_bytes: int
    width: int
    height: int
    created_at: datetime
    #: The de-identification report (what was removed, regions blurred); null when off.
    deid: dict[str, Any] | None = None
    #: Frames in the asset: N for a multi-frame DICOM, else 1.
    frames: int = 1
    #: Technical facts a viewer needs (DICOM: modality, window, rescale, spacing, series);
    #: null for a plain image.
    media_meta: dict[str, Any] | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class TasksIn(BaseModel):
    asset_ids: list[int] = Field(min_length=1, max_length=10_000)
    mode: Literal["single", "consensus", "gold"] = "single"


class TaskOut(Out):
    id: int
    project_id: int
    asset_id: int
    mode: str
    created_at: datetime


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    type: str
    label: str
    geometry: Any = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    source: Literal["human", "model"] = "human"
    confidence: float | None = None
    z_order: int = 0
    #: The 0-based frame of a multi-frame asset (DICOM) the annotation is on; absent: 0.
    frame: StrictInt | None = None


class SaveIn(BaseModel):
    base_revision: int = Field(ge=0)
    annotations: list[AnnotationIn] = Field(max_length=20_000)
    idempotency_key: str | None = Field(default=None, max_length=128)


class RevisionOut(BaseModel):
    task_id: int
    number: int
    base_number: int
    schema_version_id: int
    author_id: int
    created_at: datetime
    annotations: list[dict[str, Any]]


class SaveOut(BaseModel):
    """The revision a save made (or, on a replay, had made); its annotations are the ones
    sent, in canonical form, readable with ``get_annotations``."""

    task_id: int
    number: int
    base_number: int
    schema_version_id: int
    author_id: int
    created_at: datetime
    created: bool
    count: int


class AuditOut(Out):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    project_id: int | None
    request_id: str
    details: dict[str, Any]


class TilesOut(BaseModel):
    """A Deep Zoom pyramid: level ``max_level`` is full resolution, each level below halves."""

    width: int
    height: int
    tile_size: int
    overlap: int
    format: str
    max_level: int

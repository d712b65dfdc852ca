"""Tables of the labelproof store.

Nothing a person made is overwritten: annotation revisions and audit events are only
appended; "current" is the highest revision number of a task.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from labelproof.store.sealed import Sealed

ID = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def _id() -> Mapped[int]:
    return mapped_column(ID, primary_key=True, autoincrement=True)


def _ts() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    created_at: Mapped[datetime] = _ts()
    #: Members must sign in with a TOTP second factor (set by an organisation admin).
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = _id()
    org_id: Mapped[int] = mapped_column(ID, ForeignKey("organizations.id"), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _ts()
    #: Data-classification clearance: ``{"clearances": ["phi", ...], "baa_signed": bool,
    #: "training_done": bool}`` (services/custody/clearance.py holds the rule).
    clearance: Mapped[dict[str, Any]] = mapped_column(default=dict, nullable=False)
    #: TOTP secret sealed under a key wrapped by the master key (base64; services/security/
    #: sealing.py); set at enrolment, in use once ``totp_enabled_at`` is set.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last accepted TOTP time step: a code of this step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Credential(Base):
    """A browser session or a personal API token; only the SHA-256 of the secret is kept."""

    __tablename__ = "credentials"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # session | token | pending
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    secret_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Sessions: when last used (updated at most once a minute; the idle timeout reads it),
    #: and the client it was opened from.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class RecoveryCode(Base):
    """A one-time second-factor recovery code; only its SHA-256 is kept (80 random bits)."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False, index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _ts()
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = _id()
    org_id: Mapped[int] = mapped_column(ID, ForeignKey("organizations.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    vertical: Mapped[str] = mapped_column(String(50), default="general", nullable=False)
    classification: Mapped[str] = mapped_column(String(20), default="internal", nullable=False)
    created_at: Mapped[datetime] = _ts()
    #: De-identification at ingest (services/deid.py): ``{"photos": "off" |
    #: "strip_metadata", "blur_faces": bool, "blur_plates": bool}``; NULL = the
    #: classification's default.
    deid_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: When the project was closed (NULL: open); its retention period (days; NULL: the
    #: installation's default) schedules its destruction (services/custody/retention.py).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_days: Mapped[int | None] = mapped_column(Integer)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ID, ForeignKey("projects.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = _ts()


class SchemaVersion(Base):
    __tablename__ = "schema_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ID, ForeignKey("projects.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = _ts()


class Asset(Base):
    __tablename__ = "assets"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(
        ID, ForeignKey("projects.id"), nullable=False, index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The uploaded file's name, sealed under the project's data key.
    sealed_filename: Mapped[bytes] = mapped_column("filename", LargeBinary, nullable=False)
    filename = Sealed[str]("sealed_filename")
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = _ts()
    #: The de-identification report of the stored image (what was removed, regions blurred;
    #: names and boxes, never a metadata value); NULL when the policy was off.
    deid: Mapped[dict[str, Any] | None] = mapped_column("deid_report", JSON)
    #: Frames in the asset: 1 for a photo or a slide, N for a multi-frame DICOM.
    frames: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    #: Technical facts a viewer needs (DICOM: modality, window, rescale, pixel spacing;
    #: whole slides: vendor, levels, microns per pixel), sealed like the filename.
    #: ``None`` for a plain image. Never identifying values (those go at de-identification).
    sealed_media_meta: Mapped[bytes | None] = mapped_column("media_meta", LargeBinary)
    media_meta = Sealed[dict[str, Any] | None]("sealed_media_meta", default=None)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(
        ID, ForeignKey("projects.id"), nullable=False, index=True
    )
    asset_id: Mapped[int] = mapped_column(ID, ForeignKey("assets.id"), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), default="single", nullable=False)
    created_by: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = _ts()


class AnnotationRevision(Base):
    """One save of a task's whole annotation set; never updated after insert."""

    __tablename__ = "annotation_revisions"
    __table_args__ = (
        UniqueConstraint("task_id", "number"),
        UniqueConstraint("task_id", "idempotency_key"),
    )
    id: Mapped[int] = _id()
    task_id: Mapped[int] = mapped_column(ID, ForeignKey("tasks.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    base_number: Mapped[int] = mapped_column(Integer, nullable=False)
    schema_version_id: Mapped[int] = mapped_column(
        ID, ForeignKey("schema_versions.id"), nullable=False
    )
    author_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id"), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False)
    #: HMAC-SHA256 of the canonical save under the project's digest key (not a plain hash).
    payload_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    sealed_annotations: Mapped[bytes] = mapped_column("annotations", LargeBinary, nullable=False)
    annotations = Sealed[list[Any]]("sealed_annotations", project_via=("tasks", "task_id"))
    created_at: Mapped[datetime] = _ts()


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_project_id", "project_id", "id"),)
    id: Mapped[int] = _id()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    project_id: Mapped[int | None] = mapped_column(ID)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    #: The hash chain (labelproof.custody.chain): hex SHA-256 of the entry before and of this one.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))


from labelproof.store import custody_models as _custody_models  # noqa: E402,F401
from labelproof.store import qa_models as _qa_models  # noqa: E402,F401

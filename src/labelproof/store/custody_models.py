"""Tables of custody: audit checkpoints and the chain's head, wrapped project data keys,
destruction requests and certificates (docs/security.md).

Rows about a destroyed project (its destruction request and certificate) carry the project
id without a foreign key: they outlive the project on purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from labelproof.store.models import ID, Base, UTCDateTime, utcnow


class AuditCheckpoint(Base):
    """A signed statement: the audit log had ``tree_size`` entries with this Merkle root."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_size", "tree_size"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    root: Mapped[str] = mapped_column(String(64), nullable=False)
    last_entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)  # base64


class AuditChainHead(Base):
    """The writer's state (one row, id 1): size, last id and hash, Merkle frontier.

    Only the writer reads it; verification recomputes everything from the events, so a
    tampered head cannot hide a tampered log (it only breaks the next link).
    """

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    frontier: Mapped[list[Any]] = mapped_column(nullable=False)  # [[height, hex], ...]
    since_checkpoint: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ProjectKey(Base):
    """A project's AES-256 data key, wrapped by the master key (never stored in clear)."""

    __tablename__ = "project_keys"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(
        ID, ForeignKey("projects.id"), nullable=False, unique=True
    )
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class DestructionRequest(Base):
    """A request to destroy a project; a second admin's approval carries it out."""

    __tablename__ = "destruction_requests"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ID, nullable=False, index=True)
    org_id: Mapped[int] = mapped_column(ID, nullable=False)
    requested_by: Mapped[int] = mapped_column(ID, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    #: pending (immediate, needs approval) | scheduled (retention: due at ``due_at``, needs
    #: approval) | approved (scheduled and approved: carried out when due) | done | cancelled
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    approved_by: Mapped[int | None] = mapped_column(ID)
    certificate_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a destruction scheduled by retention falls due (NULL: carried out on approval).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProjectPreviousKey(Base):
    """A project's former data key (wrapped like the current one): old ciphertexts still
    name it until the re-encryption pass moves them; then it is retired (deleted)."""

    __tablename__ = "project_previous_keys"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(
        ID, ForeignKey("projects.id"), nullable=False, index=True
    )
    key_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class DestructionCertificate(Base):
    """The signed certificate of a project's destruction (also written as a file)."""

    __tablename__ = "destruction_certificates"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    org_id: Mapped[int] = mapped_column(ID, nullable=False, index=True)
    project_id: Mapped[int] = mapped_column(ID, nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

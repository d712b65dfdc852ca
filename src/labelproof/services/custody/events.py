"""Audit actions of key rotation and retention (recorded through ``services.audit.record``)."""

from __future__ import annotations

from enum import StrEnum


class CustodyAction(StrEnum):
    MASTER_KEY_ROTATED = "custody.master_key_rotated"
    DATA_KEY_ROTATED = "custody.data_key_rotated"
    DATA_KEY_REENCRYPTED = "custody.data_key_reencrypted"
    DATA_KEY_RETIRED = "custody.data_key_retired"
    PROJECT_CLOSED = "project.closed"
    PROJECT_REOPENED = "project.reopened"
    DESTRUCTION_SCHEDULED = "project.destruction_scheduled"
    DESTRUCTION_APPROVED = "project.destruction_approved"
    DESTRUCTION_CANCELLED = "project.destruction_cancelled"
    DESTRUCTION_OVERDUE = "project.destruction_overdue"

"""Settings of one labelproof installation, read from arguments and the environment.

Environment variables (all optional):

- ``LABELPROOF_DATA_DIR``: the data directory (default ``./labelproof-data``).
- ``LABELPROOF_DATABASE_URL``: a SQLAlchemy URL; default SQLite in the data directory.
  ``postgresql+psycopg://user@host:5432/db`` switches to PostgreSQL.
- ``LABELPROOF_MAX_UPLOAD_BYTES``, ``LABELPROOF_MAX_PIXELS``: upload limits.
- ``LABELPROOF_MAX_SLIDE_PIXELS``: the level-0 pixel limit of a whole-slide image
  (200,000 x 200,000 by default; slides are read tile by tile, never decoded whole).
- ``LABELPROOF_LOCKOUT_THRESHOLD``: failed sign-ins before an account locks.
- ``LABELPROOF_SESSION_HOURS``: browser session lifetime.
- ``LABELPROOF_MASTER_KEY``: base64 of the 32-byte master key that wraps project data keys;
  default ``<data_dir>/keys/master.key``, created on first start (docs/security.md).
- ``LABELPROOF_AUDIT_CHECKPOINT_EVERY``: sign an audit checkpoint every N events (256).
- ``LABELPROOF_SESSION_IDLE_MINUTES``: a browser session unused this long ends (60).
- ``LABELPROOF_SIGNIN_IP_PER_MINUTE``, ``LABELPROOF_SIGNIN_IP_BURST``: sign-in attempts
  allowed per client IP address (30 a minute after a burst of 30).
- ``LABELPROOF_SIGNIN_ACCOUNT_PER_MINUTE``, ``LABELPROOF_SIGNIN_ACCOUNT_BURST``: sign-in
  attempts allowed per account (10 a minute after a burst of 10).
- ``LABELPROOF_HSTS_SECONDS``: ``max-age`` of Strict-Transport-Security on https (1 year).
- ``LABELPROOF_RETENTION_DAYS``: days after closing a project before its scheduled
  destruction falls due, when the closing does not say (30).
- ``LABELPROOF_RETENTION_INTERVAL``: seconds between the server's runs of due destructions
  (3600); ``labelproof serve --no-retention-timer`` turns the timer off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from labelproof.errors import ConfigurationError

#: 8765 is used by none of PostgreSQL (5432), MariaDB (3306), Redis (6379), RabbitMQ
#: (5672, 15672, 25672, 4369), Mosquitto (1883, 8883) or NATS (4222, 6222, 8222).
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    max_upload_bytes: int = 512 * 1024 * 1024
    max_pixels: int = 40_000 * 40_000
    max_slide_pixels: int = 200_000 * 200_000
    lockout_threshold: int = 5
    session_hours: int = 12
    audit_checkpoint_every: int = 256
    session_idle_minutes: int = 60
    signin_ip_per_minute: int = 30
    signin_ip_burst: int = 30
    signin_account_per_minute: int = 10
    signin_account_burst: int = 10
    #: How long the token between the password step and the second factor lives.
    pending_sign_in_seconds: int = 300
    hsts_seconds: int = 365 * 24 * 3600
    retention_days: int = 30
    retention_interval_seconds: int = 3600

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def key_dir(self) -> Path:
        """Master key file and audit signing key (mode 0700 folder, 0600 files)."""
        return self.data_dir / "keys"

    @property
    def certificate_dir(self) -> Path:
        """Signed certificates of destruction (they outlive the projects they name)."""
        return self.data_dir / "certificates"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Build settings from explicit values, then the environment, then defaults."""
    raw_dir = data_dir or os.environ.get("LABELPROOF_DATA_DIR") or "labelproof-data"
    path = Path(raw_dir).expanduser().resolve()
    url = database_url or os.environ.get("LABELPROOF_DATABASE_URL") or ""
    if not url:
        url = f"sqlite:///{path / 'labelproof.sqlite3'}"
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigurationError(
            f"LABELPROOF_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL, got {url!r}"
        )
    return Settings(
        data_dir=path,
        database_url=url,
        max_upload_bytes=_env_int("LABELPROOF_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
        max_pixels=_env_int("LABELPROOF_MAX_PIXELS", 40_000 * 40_000),
        max_slide_pixels=_env_int("LABELPROOF_MAX_SLIDE_PIXELS", 200_000 * 200_000),
        lockout_threshold=_env_int("LABELPROOF_LOCKOUT_THRESHOLD", 5),
        session_hours=_env_int("LABELPROOF_SESSION_HOURS", 12),
        audit_checkpoint_every=_env_int("LABELPROOF_AUDIT_CHECKPOINT_EVERY", 256),
        session_idle_minutes=_env_int("LABELPROOF_SESSION_IDLE_MINUTES", 60),
        signin_ip_per_minute=_env_int("LABELPROOF_SIGNIN_IP_PER_MINUTE", 30),
        signin_ip_burst=_env_int("LABELPROOF_SIGNIN_IP_BURST", 30),
        signin_account_per_minute=_env_int("LABELPROOF_SIGNIN_ACCOUNT_PER_MINUTE", 10),
        signin_account_burst=_env_int("LABELPROOF_SIGNIN_ACCOUNT_BURST", 10),
        hsts_seconds=_env_int("LABELPROOF_HSTS_SECONDS", 365 * 24 * 3600),
        retention_days=_env_int("LABELPROOF_RETENTION_DAYS", 30),
        retention_interval_seconds=_env_int("LABELPROOF_RETENTION_INTERVAL", 3600),
    )

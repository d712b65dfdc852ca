"""Shared helpers of the custody server tests: the CLI against a test installation, and
marker scans of a data directory."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import orjson
from PIL import Image
from typer.testing import CliRunner

from labelproof.cli import app
from labelproof.services.context import Runtime
from tests.world import World

PIXEL_MARKER = b"LPMARKERPIXELS7Q"  # 16 bytes: one image row of an 'L' BMP repeats it
TEXT_MARKER = "LPMARKERTEXT-5Zq9"


def cli(rt: Runtime, *args: str) -> Any:
    """Run ``labelproof ...`` on the test installation (its data dir and database)."""
    env = {"LABELPROOF_DATABASE_URL": rt.settings.database_url}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def marker_bmp(width: int = 64, height: int = 32) -> bytes:
    """An uncompressed 8-bit BMP whose every row is PIXEL_MARKER repeated (so the marker
    appears verbatim in the file, and in any plaintext copy of it)."""
    row = (PIXEL_MARKER * (width // len(PIXEL_MARKER) + 1))[:width]
    image = Image.frombytes("L", (width, height), row * height)
    buf = io.BytesIO()
    image.save(buf, format="BMP")
    assert PIXEL_MARKER in buf.getvalue()
    return buf.getvalue()


def scan(root: Path, markers: list[bytes]) -> dict[str, list[str]]:
    """Files under ``root`` holding each marker (plain bytes, or UTF-16 for text)."""
    hits: dict[str, list[str]] = {m.decode(): [] for m in markers}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for m in markers:
                if m in data or m.decode().encode("utf-16-le") in data:
                    hits[m.decode()].append(str(path.relative_to(root)))
    return hits


def upload(world: World, data: bytes, name: str = "m.bmp", who: str = "program_manager") -> int:
    r = world.client(who).post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": (name, data, "image/bmp")},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def json_of(result: Any) -> Any:
    return orjson.loads(result.stdout)

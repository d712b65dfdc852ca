"""Blobs and derived files are encrypted at rest under per-project data keys; the master key
is checked at start. Proven by scanning the data directory for marker bytes."""

from __future__ import annotations

import base64
import io
import os
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from labelproof.config import Settings
from labelproof.custody.errors import TamperedCiphertext
from labelproof.custody.keyring import MASTER_KEY_ENV, generate_master_key
from labelproof.errors import ConfigurationError
from labelproof.services.context import Runtime, open_runtime
from labelproof.services.custody.blobs import read_blob
from labelproof.store.models import Asset
from tests.custody_server.helpers import PIXEL_MARKER, TEXT_MARKER, marker_bmp, scan, upload
from tests.world import World


def _use_everything(world: World, aid: int) -> None:
    """Read the asset every way the server can: content, thumbnail, tiles, export."""
    c = world.client("program_manager")
    base = f"/api/projects/{world.project_id}/assets/{aid}"
    assert c.get(f"{base}/content").content == marker_bmp()
    assert c.get(f"{base}/thumbnail", params={"max": 32}).status_code == 200
    assert c.get(f"{base}/tiles").status_code == 200
    assert c.get(f"{base}/tiles/6/0_0.jpg").status_code == 200
    r = c.get(f"/api/projects/{world.project_id}/export", params={"format": "coco"})
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:  # images decrypted into the export
        pngs = [n for n in zf.namelist() if n.endswith(".png")]
        assert pngs and Image.open(io.BytesIO(zf.read(pngs[0]))).size == (640, 480)


def test_no_plaintext_blob_or_derived_file_in_the_data_directory(world: World) -> None:
    aid = upload(world, marker_bmp())
    _use_everything(world, aid)
    data_dir = world.rt.settings.data_dir
    hits = scan(data_dir, [PIXEL_MARKER])
    assert hits == {PIXEL_MARKER.decode(): []}
    sealed = list((data_dir / "blobs" / "projects").rglob("*"))
    assert any(p.is_file() for p in sealed)
    for folder in ("thumbs", "tiles"):
        files = [p for p in (data_dir / folder).rglob("*") if p.is_file()]
        assert files, folder
        for p in files:
            head = p.read_bytes()[:4]
            assert head == b"LPEC", (p, head)  # sealed, never a JPEG
    assert list((data_dir / "blobs" / "tmp").iterdir()) == []


def test_annotation_payloads_are_not_plaintext_in_the_database(world: World) -> None:
    """SQLite: the database file and its WAL; PostgreSQL: every text/json/bytea column
    (more kinds of sealed field: ``test_sealed_fields.py``)."""
    from tests.custody_server.test_sealed_fields import _hits

    c = world.client("annotator")
    r = c.put(
        f"/api/tasks/{world.task_id}/annotations",
        json={
            "base_revision": 0,
            "annotations": [
                {
                    "id": TEXT_MARKER,
                    "type": "box",
                    "label": "car",
                    "geometry": {"x": 1, "y": 1, "w": 4, "h": 4},
                }
            ],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    assert _hits(world, [TEXT_MARKER]) == {TEXT_MARKER: []}
    got = c.get(f"/api/tasks/{world.task_id}/annotations")
    assert got.json()["annotations"][0]["id"] == TEXT_MARKER


def test_dedup_is_per_project_and_blobs_are_bound_to_their_project(world: World) -> None:
    data = marker_bmp(48, 16)
    a1 = upload(world, data)
    a2 = upload(world, data, name="again.bmp")
    r = world.client("orgadmin").post(
        f"/api/projects/{world.other_project_id}/assets",
        files={"file": ("x.bmp", data, "image/bmp")},
    )
    assert r.status_code == 201
    with world.rt.read() as db:
        sha = db.scalars(select(Asset.sha256).where(Asset.id.in_([a1, a2]))).all()
    assert len(set(sha)) == 1
    blobs = world.rt.blobs
    mine = blobs.sealed_path(world.project_id, sha[0])
    theirs = blobs.sealed_path(world.other_project_id, sha[0])
    assert mine.is_file() and theirs.is_file()
    assert mine.read_bytes() != theirs.read_bytes()  # other key, other nonce
    assert [d for d, _ in blobs.sealed_digests(world.project_id)].count(sha[0]) == 1
    # a ciphertext copied over another project's blob does not open there
    theirs.write_bytes(mine.read_bytes())
    with pytest.raises((TamperedCiphertext, ConfigurationError)):
        read_blob(world.rt, project_id=world.other_project_id, sha256=sha[0])
    assert read_blob(world.rt, project_id=world.project_id, sha256=sha[0]) == data


def _reopen(settings: Settings) -> Runtime:
    return open_runtime(settings, migrate=False)


def test_master_key_file_is_private_and_a_wrong_key_fails_at_start(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(world, marker_bmp())  # the project now has a wrapped data key
    settings = world.rt.settings
    key_file = settings.key_dir / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    good = key_file.read_text()
    # a different key in the environment: refused at start, naming the project
    monkeypatch.setenv(MASTER_KEY_ENV, generate_master_key())
    with pytest.raises(ConfigurationError, match="does not open the data key of project"):
        _reopen(settings)
    # the right key from the environment works (and the file is then not needed)
    monkeypatch.setenv(MASTER_KEY_ENV, good.strip())
    rt = _reopen(settings)
    rt.engine.dispose()
    monkeypatch.delenv(MASTER_KEY_ENV)
    # the key file gone while data keys exist: refused, never silently replaced
    moved = key_file.with_name("master.key.bak")
    os.replace(key_file, moved)
    with pytest.raises(ConfigurationError, match="is missing"):
        _reopen(settings)
    assert not key_file.exists()
    os.replace(moved, key_file)
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        _reopen(settings)
    key_file.chmod(0o600)


def test_fresh_installation_creates_its_master_key(tmp_path: Path) -> None:
    from labelproof.config import load_settings

    rt = open_runtime(load_settings(tmp_path / "new"))
    try:
        assert (tmp_path / "new" / "keys" / "master.key").stat().st_mode & 0o777 == 0o600
    finally:
        rt.engine.dispose()

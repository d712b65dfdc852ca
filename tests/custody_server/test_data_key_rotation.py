"""Data key rotation per project (both databases): a new current key while a server runs,
old ciphertexts readable, a resumable re-encryption pass in bounded batches, then the old key
retired once no field, blob or derived file names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from labelproof.errors import Conflict
from labelproof.services.context import Runtime, open_runtime
from labelproof.services.custody import keys as custody_keys
from labelproof.services.custody.blobs import read_blob
from labelproof.services.custody.data_key_rotation import (
    ciphertexts_naming,
    reencrypt_project,
    retire_previous_keys,
    rotate_project,
)
from labelproof.store.custody_models import ProjectKey, ProjectPreviousKey
from labelproof.store.models import Asset, AuditEvent, Base
from labelproof.store.sealed import sealed_fields
from tests.custody_server.helpers import cli, json_of, marker_bmp
from tests.custody_server.test_sealed_fields import ANN, FILE, _fill
from tests.world import World, png_bytes


def _key_id(rt: Runtime, project_id: int) -> str:
    with rt.read() as db:
        row = db.scalar(select(ProjectKey).where(ProjectKey.project_id == project_id))
        assert row is not None
        return row.key_id


def _reads(world: World) -> None:
    """The server's reads: annotation payload, file names, content, thumbnail, tiles."""
    c = world.client("program_manager")
    assert c.get(f"/api/tasks/{world.task_id}/annotations").json()["annotations"][0]["id"] == ANN
    page = c.get(f"/api/projects/{world.project_id}/assets").json()["items"]
    marker = next(a for a in page if a["filename"] == f"{FILE}.bmp")
    base = f"/api/projects/{world.project_id}/assets/{marker['id']}"
    assert c.get(f"{base}/content").content == marker_bmp()
    assert c.get(f"{base}/thumbnail", params={"max": 32}).status_code == 200
    assert c.get(f"{base}/tiles/6/0_0.jpg").status_code == 200


def _open_every_sealed_row(rt: Runtime) -> int:
    """Load every row of every sealed model (opening raises on a key it cannot find)."""
    n = 0
    with rt.read() as db:
        for mapper in Base.registry.mappers:
            specs = sealed_fields(mapper.class_)
            for obj in db.scalars(select(mapper.class_)):
                for spec in specs:
                    getattr(obj, spec.name)
                n += 1 if specs else 0
    return n


def _actions(rt: Runtime, project_id: int) -> list[str]:
    with rt.read() as db:
        return list(
            db.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project_id))
        )


def test_data_key_rotates_reencrypts_and_retires_while_a_server_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(custody_keys, "KEY_RECHECK_S", 0.0)  # the server re-checks at once
    _fill(world)
    _reads(world)  # thumbnails and tiles now exist, sealed under the old key
    pid = world.project_id
    old = _key_id(world.rt, pid)

    other = open_runtime(world.rt.settings, migrate=False)  # another process rotates
    done = rotate_project(other, pid)
    assert done["from_key_id"] == old and done["to_key_id"] != old
    new = done["to_key_id"]
    assert _key_id(world.rt, pid) == new

    # the running server still reads everything, and writes under the new key
    _reads(world)
    r = world.client("program_manager").post(
        f"/api/projects/{pid}/assets", files={"file": ("after.png", png_bytes(seed=5), "image/png")}
    )
    assert r.status_code == 201, r.text
    with world.rt.read() as db:
        after = db.get(Asset, r.json()["id"])
        assert after is not None
        sha = after.sha256
        assert bytes(after.sealed_filename)[5:13].hex() == new
    assert world.rt.blobs.sealed_path(pid, sha).read_bytes()[5:13].hex() == new

    before = ciphertexts_naming(other, pid, [bytes.fromhex(old)])
    assert before["blobs"] >= 1 and before["derived_files"] >= 2
    assert before["assets.filename"] >= 1 and before["annotation_revisions.annotations"] >= 1
    with pytest.raises(Conflict, match="still named by"):
        retire_previous_keys(other, pid)

    # resumable: one batch of one row, then the rest
    first = reencrypt_project(other, pid, batch=1, max_batches=1)
    assert first.batches == 1 and not first.complete and sum(first.fields.values()) == 1
    rest = reencrypt_project(other, pid, batch=2)
    assert rest.complete and rest.blobs == before["blobs"]
    assert rest.derived_files == before["derived_files"]
    moved = {
        k: first.fields.get(k, 0) + rest.fields.get(k, 0) for k in {*first.fields, *rest.fields}
    }
    assert moved == {k: v for k, v in before.items() if "." in k}
    assert ciphertexts_naming(other, pid, [bytes.fromhex(old)]) == {}

    assert retire_previous_keys(other, pid) == [old]
    with world.rt.read() as db:
        assert list(db.scalars(select(ProjectPreviousKey))) == []
    for path in world.rt.blobs.project_root(pid).glob("??/??/*"):
        assert path.read_bytes()[5:13].hex() == new
    other.engine.dispose()

    # the server after retirement, and a fresh runtime that never saw the old key
    _reads(world)
    fresh = open_runtime(world.rt.settings, migrate=False)
    assert _open_every_sealed_row(fresh) > 0
    with fresh.read() as db:
        for a in db.scalars(select(Asset).where(Asset.project_id == pid)):
            assert read_blob(fresh, project_id=pid, sha256=a.sha256)
    fresh.engine.dispose()
    actions = _actions(world.rt, pid)
    assert "custody.data_key_rotated" in actions and "custody.data_key_retired" in actions
    assert actions.count("custody.data_key_reencrypted") == 2


def test_cli_rotates_then_reencrypts_and_retires(world: World, tmp_path: Path) -> None:
    d = str(world.rt.settings.data_dir)
    pid = str(world.project_id)
    old = _key_id(world.rt, world.project_id)
    r = cli(world.rt, "keys", "rotate-project", pid, "--data-dir", d)
    assert r.exit_code == 0, r.output
    assert json_of(r)["from_key_id"] == old
    r = cli(world.rt, "keys", "rotate-project", pid, "--reencrypt", "--retire", "--data-dir", d)
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = json_of(r)
    assert out["complete"] and out["retired_key_ids"] == [old] and out["blobs"] == 1
    assert ciphertexts_naming(world.rt, world.project_id, [bytes.fromhex(old)]) == {}
    r = world.client("program_manager").get(
        f"/api/projects/{world.project_id}/assets/{world.asset_id}/content"
    )
    assert r.status_code == 200
    r = cli(world.rt, "keys", "rotate-project", "999999", "--data-dir", d)
    assert r.exit_code == 2 and "no data key" in r.stderr

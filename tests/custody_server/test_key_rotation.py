"""Master key rotation while a server runs (both databases): the running runtime keeps
reading and writing, a fresh runtime with only the new key opens everything, the old key
alone is refused at start."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from labelproof.custody.keyring import (
    MASTER_KEY_ENV,
    master_key_id,
    read_master_key_file,
    wrapped_under,
    write_master_keys,
)
from labelproof.errors import ConfigurationError
from labelproof.services.context import open_runtime
from labelproof.services.custody.blobs import read_blob
from labelproof.services.custody.rotation import rotate_master, stale_wraps
from labelproof.services.security import totp
from labelproof.store.custody_models import ProjectKey
from labelproof.store.models import Asset, AuditEvent, User
from tests.custody_server.helpers import cli, json_of, marker_bmp, upload
from tests.world import PASSWORD, World, png_bytes


def _code(secret: str) -> str:
    return totp.totp(totp.from_base32(secret), time.time())


def _enrol(world: World, who: str) -> str:
    c = world.client(who)
    secret = str(c.post("/api/auth/totp/enrol", json={"password": PASSWORD}).json()["secret"])
    assert c.post("/api/auth/totp/confirm", json={"code": _code(secret)}).status_code == 200
    return secret


def _second_factor_sign_in(world: World, who: str, secret: str) -> int:
    c = world.client(None)
    r = c.post("/api/auth/login", json={"email": f"{who}@org.test", "password": PASSWORD})
    assert r.json()["second_factor"] == "totp", r.text
    pending = r.json()["pending_token"]
    # a code of a later step than the one used at enrolment (the replay guard)
    code = totp.totp(totp.from_base32(secret), time.time() + 30)
    r = c.post("/api/auth/login/second-factor", json={"pending_token": pending, "code": code})
    return r.status_code


def test_master_key_rotates_while_a_server_runs(world: World) -> None:
    key_file = world.rt.settings.key_dir / "master.key"
    old_keys = read_master_key_file(key_file)
    assert len(old_keys) == 1
    old_text = key_file.read_text()
    secret = _enrol(world, "annotator")
    aid = upload(world, marker_bmp())

    # another process (runtime) on the same data directory rotates
    other = open_runtime(world.rt.settings, migrate=False)
    report = rotate_master(other)
    other.engine.dispose()
    new_keys = read_master_key_file(key_file)
    assert len(new_keys) == 1 and new_keys[0] != old_keys[0]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in key_file.parent.iterdir() if p.name.endswith(".tmp")] == []
    new_id = master_key_id(new_keys[0])
    assert report.to_key_id == new_id.hex()
    assert report.from_key_ids == [master_key_id(old_keys[0]).hex()]
    assert (report.project_keys, report.totp_secrets, report.passes) == (2, 1, 1)
    with world.rt.read() as db:
        assert stale_wraps(db, new_id) == 0
        rows = list(db.scalars(select(ProjectKey)))
        assert rows and all(wrapped_under(r.wrapped) == new_id for r in rows)
        event = db.scalar(
            select(AuditEvent).where(AuditEvent.action == "custody.master_key_rotated")
        )
        assert event is not None and event.details["to_key_id"] == new_id.hex()
        assert event.details["project_keys"] == 2 and event.details["totp_secrets"] == 1

    # the running server: reads, writes, a new project's key, and a TOTP sign-in
    c = world.client("program_manager")
    assert c.get(f"/api/projects/{world.project_id}/assets/{aid}/content").content == (marker_bmp())
    second = upload(world, png_bytes(seed=7), name="second.png")
    admin = world.client("orgadmin")
    r = admin.post("/api/projects", json={"name": "after rotation"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = admin.post(
        f"/api/projects/{pid}/assets", files={"file": ("n.png", png_bytes(seed=9), "image/png")}
    )
    assert r.status_code == 201, r.text
    with world.rt.read() as db:
        row = db.scalar(select(ProjectKey).where(ProjectKey.project_id == pid))
        assert row is not None and wrapped_under(row.wrapped) == new_id  # not the stale key
    assert _second_factor_sign_in(world, "annotator", secret) == 200
    assert world.rt.custody.provider.key_id == new_id

    # a fresh runtime with only the new key opens every project's blobs and fields
    fresh = open_runtime(world.rt.settings, migrate=False)
    with fresh.read() as db:
        assets = [(a.project_id, a.sha256, a.filename) for a in db.scalars(select(Asset))]
        user = db.get(User, world.users["annotator"])
        assert user is not None and user.totp_secret is not None
    assert {name for _p, _s, name in assets} >= {"a.png", "b.png", "m.bmp", "second.png", "n.png"}
    for project_id, sha, _name in assets:
        assert read_blob(fresh, project_id=project_id, sha256=sha)
    fresh.engine.dispose()
    assert second

    # the old key alone is refused at start, naming the problem
    key_file.write_text(old_text)
    key_file.chmod(0o600)
    with pytest.raises(ConfigurationError, match="does not open the data key of project"):
        open_runtime(world.rt.settings, migrate=False)


def test_an_interrupted_rotation_is_finished_by_running_it_again(world: World) -> None:
    key_file = world.rt.settings.key_dir / "master.key"
    (old,) = read_master_key_file(key_file)
    new = os.urandom(32)
    write_master_keys(key_file, [new, old])  # step 1 done, then the process died
    both = open_runtime(world.rt.settings, migrate=False)  # every process still starts
    report = rotate_master(both)
    assert report.resumed and report.to_key_id == master_key_id(new).hex()
    assert report.project_keys == 2
    assert read_master_key_file(key_file) == [new]
    both.engine.dispose()


def test_cli_rotates_with_a_prepared_key_file(world: World, tmp_path: Path) -> None:
    prepared = tmp_path / "new.key"
    new = os.urandom(32)
    write_master_keys(prepared, [new])
    r = cli(
        world.rt,
        "keys",
        "rotate-master",
        "--data-dir",
        str(world.rt.settings.data_dir),
        "--new-key-file",
        str(prepared),
    )
    assert r.exit_code == 0, r.output
    assert json_of(r)["to_key_id"] == master_key_id(new).hex()
    assert read_master_key_file(world.rt.settings.key_dir / "master.key") == [new]
    # the same key again is refused clearly
    r = cli(
        world.rt,
        "keys",
        "rotate-master",
        "--data-dir",
        str(world.rt.settings.data_dir),
        "--new-key-file",
        str(prepared),
    )
    assert r.exit_code == 2 and "is the current one" in r.stderr
    # the running runtime still reads
    c = world.client("program_manager")
    assert (
        c.get(f"/api/projects/{world.project_id}/assets/{world.asset_id}/content").status_code
        == 200
    )


def test_environment_keys_rotate_to_the_first_listed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = world.rt.settings.key_dir / "master.key"
    (old,) = read_master_key_file(key_file)
    new = os.urandom(32)
    b64 = base64.b64encode
    monkeypatch.setenv(MASTER_KEY_ENV, b64(old).decode())
    with pytest.raises(ConfigurationError, match="NEW,OLD"):
        rotate_master(open_runtime(world.rt.settings, migrate=False))
    monkeypatch.setenv(MASTER_KEY_ENV, f"{b64(new).decode()},{b64(old).decode()}")
    report = rotate_master(open_runtime(world.rt.settings, migrate=False))
    assert report.key_file is None and report.to_key_id == master_key_id(new).hex()
    monkeypatch.setenv(MASTER_KEY_ENV, b64(new).decode())
    fresh = open_runtime(world.rt.settings, migrate=False)
    assert read_blob(fresh, project_id=world.project_id, sha256=_sha(world))
    fresh.engine.dispose()
    monkeypatch.setenv(MASTER_KEY_ENV, b64(old).decode())
    with pytest.raises(ConfigurationError, match="does not open"):
        open_runtime(world.rt.settings, migrate=False)


def _sha(world: World) -> str:
    with world.rt.read() as db:
        asset = db.get(Asset, world.asset_id)
        assert asset is not None
        return asset.sha256


def test_master_rotation_carries_previous_data_keys(world: World) -> None:
    """A project mid data-key rotation: its previous key is rewrapped too, so old
    ciphertexts still open with only the new master key."""
    from labelproof.services.custody.data_key_rotation import rotate_project

    rotate_project(world.rt, world.project_id)  # the asset's blob still names the old key
    report = rotate_master(world.rt)
    assert (report.project_keys, report.previous_keys) == (2, 1)
    fresh = open_runtime(world.rt.settings, migrate=False)
    assert read_blob(fresh, project_id=world.project_id, sha256=_sha(world))
    with fresh.read() as db:
        asset = db.get(Asset, world.asset_id)
        assert asset is not None and asset.filename == "a.png"
    fresh.engine.dispose()

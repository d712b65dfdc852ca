"""Two-person destruction: crypto-shredding, rows and blobs gone, a signed certificate, and
no byte of the project's content left in the data directory (marker scan)."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
from sqlalchemy import func, select

from labelproof.services.custody.blobs import read_blob
from labelproof.store.custody_models import DestructionCertificate, ProjectKey
from labelproof.store.models import Asset, AuditEvent, Project, Task
from tests.custody_server.helpers import (
    PIXEL_MARKER,
    TEXT_MARKER,
    cli,
    json_of,
    marker_bmp,
    scan,
    upload,
)
from tests.world import World


def _fill(world: World) -> int:
    """Marker pixels in a blob (and its thumbnail and tiles), marker text in annotations."""
    aid = upload(world, marker_bmp())
    c = world.client("program_manager")
    base = f"/api/projects/{world.project_id}/assets/{aid}"
    assert c.get(f"{base}/thumbnail").status_code == 200
    assert c.get(f"{base}/tiles").status_code == 200
    r = world.client("annotator").put(
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
    return aid


def _markers(world: World) -> dict[str, list[str]]:
    return scan(world.rt.settings.data_dir, [PIXEL_MARKER, TEXT_MARKER.encode()])


def test_two_person_destruction_over_the_api(world: World, tmp_path: Path) -> None:
    _fill(world)
    # the annotation is there (read through the project's key), sealed in the database
    got = world.client("annotator").get(f"/api/tasks/{world.task_id}/annotations")
    assert got.json()["annotations"][0]["id"] == TEXT_MARKER
    if world.rt.settings.is_sqlite:
        assert _markers(world)[TEXT_MARKER] == [], "annotations are sealed before destruction"
    pid = world.project_id
    r = world.client("admin").post(
        f"/api/projects/{pid}/destruction-requests", json={"reason": "contract ended"}
    )
    assert r.status_code == 201, r.text
    req = r.json()["id"]
    # the requester cannot approve their own request; others without the right cannot either
    assert world.client("admin").post(f"/api/destruction-requests/{req}/approve").status_code == 403
    assert (
        world.client("program_manager").post(f"/api/destruction-requests/{req}/approve").status_code
        == 403
    )
    assert (
        world.client("outsider").post(f"/api/destruction-requests/{req}/approve").status_code == 404
    )
    done = world.client("orgadmin").post(f"/api/destruction-requests/{req}/approve")
    assert done.status_code == 200, done.text
    cert = done.json()
    # what, how, by whom, counts and hashes, the audit checkpoint
    assert cert["subject"]["project_id"] == pid
    assert cert["sanitization"]["technique"] == "Cryptographic Erase"
    assert cert["destroyed"]["rows"]["assets"] == 2 and cert["destroyed"]["rows"]["projects"] == 1
    assert (
        cert["destroyed"]["blobs"]["count"] == 2 and len(cert["destroyed"]["blobs"]["sha256"]) == 2
    )
    assert cert["destroyed"]["data_key"]["key_id"]
    assert cert["requested"]["user_id"] == world.users["admin"]
    assert cert["approved_by"]["user_id"] == world.users["orgadmin"]
    assert all(cert["verification"][k] for k in ("data_key_row_absent", "blob_folder_absent"))
    assert cert["audit"]["checkpoint"]["tree_size"] >= 1
    # the project is gone: rows, key, blobs, derived files
    assert world.client("orgadmin").get(f"/api/projects/{pid}").status_code == 404
    with world.rt.read() as db:
        for model in (Asset, Task, ProjectKey):
            col = model.project_id
            assert db.scalar(select(func.count()).where(col == pid)) == 0
        assert db.get(Project, pid) is None
        assert db.scalar(select(func.count()).select_from(DestructionCertificate)) == 1
        assert db.scalar(select(func.count()).where(AuditEvent.action == "project.destroyed")) == 1
    data_dir = world.rt.settings.data_dir
    for folder in ("blobs/projects", "tiles", "thumbs"):
        assert not (data_dir / folder / str(pid)).exists()
    # no byte of the content is left in the data directory (SQLite file and WAL included)
    hits = _markers(world)
    assert hits[PIXEL_MARKER.decode()] == []
    if world.rt.settings.is_sqlite:
        assert hits[TEXT_MARKER] == [], hits
    # the certificate verifies offline; an edited one does not
    path = data_dir / "certificates" / f"{cert['certificate_id']}.json"
    assert orjson.loads(path.read_bytes()) == cert
    ok = cli(world.rt, "certificate", "verify", str(path), "--data-dir", str(data_dir))
    assert ok.exit_code == 0 and json_of(ok)["ok"] is True
    cert["destroyed"]["blobs"]["count"] = 1
    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps(cert))
    bad = cli(world.rt, "certificate", "verify", str(forged), "--data-dir", str(data_dir))
    assert bad.exit_code == 1 and "signature" in json_of(bad)["reason"]
    # the audit log still verifies, and the other project is untouched
    assert cli(world.rt, "audit", "verify", "--data-dir", str(data_dir)).exit_code == 0
    with world.rt.read() as db:
        other = db.scalar(select(Asset).where(Asset.project_id == world.other_project_id))
    assert other is not None
    assert read_blob(world.rt, project_id=other.project_id, sha256=other.sha256)
    got = world.client("orgadmin").get(f"/api/destruction-certificates/{cert['certificate_id']}")
    assert got.status_code == 200 and got.json()["certificate_id"] == cert["certificate_id"]


def test_destroy_from_the_cli_needs_a_second_admin(world: World) -> None:
    _fill(world)
    data_dir = str(world.rt.settings.data_dir)
    pid = str(world.project_id)
    same = cli(
        world.rt, "project", "destroy", pid, "--as", "root@org.test",
        "--approved-by", "root@org.test", "--yes", "--data-dir", data_dir,
    )  # fmt: skip
    assert same.exit_code == 2 and "second person" in same.stderr
    done = cli(
        world.rt, "project", "destroy", pid, "--as", "root@org.test",
        "--approved-by", "admin@org.test", "--yes", "--data-dir", data_dir,
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    cert = json_of(done)
    path = Path(data_dir) / "certificates" / f"{cert['certificate_id']}.json"
    assert path.is_file()
    check = cli(world.rt, "certificate", "verify", str(path), "--data-dir", data_dir)
    assert check.exit_code == 0
    assert _markers(world)[PIXEL_MARKER.decode()] == []

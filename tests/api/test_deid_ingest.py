"""De-identification at ingest, by project policy (services/deid.py), through HTTP on both
databases: a PII project stores the cleaned image (no EXIF, no GPS) and keeps the report;
an internal project keeps the uploaded bytes; face blurring changes the face's pixels and
only those; policy changes are audited and refused to annotators."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import ExifTags, Image
from sqlalchemy import select

from labelproof.errors import InvalidInput
from labelproof.services.deid import default_policy, parse_policy, policy_of
from labelproof.store.models import AuditEvent, Project
from tests.custody_server.helpers import cli
from tests.world import World


def _exif_jpeg() -> bytes:
    """A JPEG with camera EXIF and a GPS position planted through Pillow's Exif API."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model-S3CR3T"
    exif[ExifTags.Base.BodySerialNumber] = "SN-424242"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, size=(60, 80, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as im:  # the metadata is really there before
        assert im.getexif()[ExifTags.Base.Make] == "SecretCam"
        assert im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def _pii_project(world: World, **policy: Any) -> int:
    c = world.client("orgadmin")
    me = world.users["orgadmin"]
    assert c.put(f"/api/users/{me}/clearance", json={"clearances": ["pii"]}).status_code == 200
    body: dict[str, Any] = {"name": "pii", "classification": "pii"}
    if policy:
        body["deid_policy"] = policy
    r = c.post("/api/projects", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _upload(world: World, who: str, pid: int, name: str, data: bytes) -> dict[str, Any]:
    r = world.client(who).post(
        f"/api/projects/{pid}/assets", files={"file": (name, data, "application/octet-stream")}
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _content(world: World, who: str, pid: int, asset_id: int) -> bytes:
    r = world.client(who).get(f"/api/projects/{pid}/assets/{asset_id}/content")
    assert r.status_code == 200
    return r.content


def _assert_no_metadata(data: bytes) -> None:
    for secret in (b"SecretCam", b"S3CR3T", b"SN-424242", b"Exif\x00\x00"):
        assert secret not in data
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in im.info


def test_policy_defaults_by_classification_and_is_validated() -> None:
    for cls in ("pii", "phi", "cui"):
        assert default_policy(cls)["photos"] == "strip_metadata"
    for cls in ("public", "internal"):
        assert default_policy(cls) == {
            "photos": "off",
            "blur_faces": False,
            "blur_plates": False,
            "dicom": "off",
        }
    assert parse_policy({"photos": "strip_metadata", "blur_plates": True}) == {
        "photos": "strip_metadata",
        "blur_faces": False,
        "blur_plates": True,
        "dicom": "off",
    }
    with pytest.raises(InvalidInput) as bad:
        parse_policy({"photos": "blur"})
    assert bad.value.field == "deid_policy.photos"
    with pytest.raises(InvalidInput) as bad:
        parse_policy({"photos": "off", "blur_faces": True})
    assert bad.value.field == "deid_policy.blur_faces"
    with pytest.raises(InvalidInput) as bad:
        parse_policy({"photos": "off", "gps": "keep"})
    assert bad.value.field == "deid_policy"


def test_pii_upload_is_stored_without_exif_or_gps(world: World) -> None:
    data = _exif_jpeg()
    pid = _pii_project(world)
    got = world.client("orgadmin").get(f"/api/projects/{pid}").json()
    assert got["deid_policy"] == {
        "photos": "strip_metadata",
        "blur_faces": False,
        "blur_plates": False,
        "dicom": "basic_profile",
    }
    asset = _upload(world, "orgadmin", pid, "street.jpg", data)
    report = asset["deid"]
    assert report["format"] == "JPEG" and {"exif", "gps"} <= set(report["removed"])
    assert {"Make", "Model"} <= set(report["exif_tags"])
    assert report["regions"] == [] and (report["width"], report["height"]) == (80, 60)
    assert (asset["width"], asset["height"]) == (80, 60)
    stored = _content(world, "orgadmin", pid, asset["id"])
    _assert_no_metadata(stored)
    assert asset["sha256"] == hashlib.sha256(stored).hexdigest() != hashlib.sha256(data).hexdigest()
    listed = world.client("orgadmin").get(f"/api/projects/{pid}/assets").json()["items"]
    assert listed[0]["deid"] == report

    # the same upload to an internal project (policy off) keeps its bytes and has no report
    plain = _upload(world, "program_manager", world.project_id, "street.jpg", data)
    assert plain["deid"] is None
    assert _content(world, "program_manager", world.project_id, plain["id"]) == data


def test_archive_members_are_cleaned(world: World) -> None:
    pid = _pii_project(world)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/one.jpg", _exif_jpeg())
    r = world.client("orgadmin").post(
        f"/api/projects/{pid}/assets/archive",
        files={"file": ("batch.zip", buf.getvalue(), "application/zip")},
    )
    assert r.status_code == 201, r.text
    [asset] = r.json()
    assert "gps" in asset["deid"]["removed"]
    _assert_no_metadata(_content(world, "orgadmin", pid, asset["id"]))


def test_face_blur_changes_the_face_and_only_the_face(world: World) -> None:
    pid = _pii_project(world)
    c = world.client("orgadmin")
    policy = {
        "photos": "strip_metadata",
        "blur_faces": True,
        "blur_plates": False,
        "dicom": "basic_profile",
    }
    r = c.put(f"/api/projects/{pid}/deid-policy", json=policy)
    assert r.status_code == 200 and r.json() == policy
    original = np.asarray(skimage.data.astronaut())  # type: ignore[no-untyped-call]
    buf = io.BytesIO()
    Image.fromarray(original).save(buf, format="PNG")  # lossless: untouched pixels stay equal
    asset = _upload(world, "orgadmin", pid, "astronaut.png", buf.getvalue())
    [region] = asset["deid"]["regions"]
    assert region["kind"] == "face" and region["w"] > 50 and region["h"] > 50
    with Image.open(io.BytesIO(_content(world, "orgadmin", pid, asset["id"]))) as im:
        stored = np.asarray(im.convert("RGB"))
    x, y, w, h = region["x"], region["y"], region["w"], region["h"]
    inside = np.abs(stored[y : y + h, x : x + w].astype(int) - original[y : y + h, x : x + w])
    assert inside.mean() > 5.0  # blurred
    outside = np.ones(original.shape[:2], dtype=bool)
    outside[y : y + h, x : x + w] = False
    assert np.array_equal(stored[outside], original[outside])

    with world.rt.read() as db:
        events = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "project.deid_policy_set"))
        )
    assert len(events) == 1 and events[0].project_id == pid
    assert events[0].details["before"]["blur_faces"] is False
    assert events[0].details["after"] == policy
    assert events[0].actor_id == world.users["orgadmin"]


def test_only_program_managers_and_admins_set_the_policy(world: World) -> None:
    url = f"/api/projects/{world.project_id}/deid-policy"
    body = {"photos": "strip_metadata"}
    for who in ("annotator", "reviewer", "team_lead", "auditor"):
        assert world.client(who).put(url, json=body).status_code == 403
    r = world.client("program_manager").put(url, json=body)
    assert r.status_code == 200 and r.json()["photos"] == "strip_metadata"
    bad = world.client("program_manager").put(url, json={"photos": "maybe"})
    assert bad.status_code == 422 and bad.json()["field"] == "deid_policy.photos"
    again = _upload(world, "program_manager", world.project_id, "x.jpg", _exif_jpeg())
    assert "gps" in again["deid"]["removed"]


def test_cli_creates_a_project_with_a_policy(world: World) -> None:
    result = cli(
        world.rt,
        "project",
        "create",
        "Street",
        "--as",
        "root@org.test",
        "--deid-photos",
        "strip_metadata",
        "--blur-plates",
        "--data-dir",
        str(world.rt.settings.data_dir),
    )
    assert result.exit_code == 0, result.output
    pid = int(result.stdout.split()[1])

    with world.rt.read() as db:
        project = db.get(Project, pid)
        assert project is not None
        assert policy_of(project) == {
            "photos": "strip_metadata",
            "blur_faces": False,
            "blur_plates": True,
            "dicom": "off",  # an internal project
        }


def test_dataset_import_and_add_asset_follow_the_policy(world: World) -> None:
    from labelproof.services import accounts, assets
    from labelproof.store.db import transaction
    from labelproof.store.models import Asset, User

    other = world.other_project_id
    policy = {"photos": "strip_metadata"}
    c = world.client("orgadmin")  # the admin of the other project
    assert c.put(f"/api/projects/{other}/deid-policy", json=policy).status_code == 200
    export = world.client("program_manager").get(
        f"/api/projects/{world.project_id}/export", params={"format": "coco"}
    )
    assert export.status_code == 200
    r = c.post(
        f"/api/projects/{other}/imports",
        files={"file": ("ds.zip", export.content, "application/octet-stream")},
    )
    assert r.status_code == 201, r.text
    items = c.get(f"/api/projects/{other}/assets").json()["items"]
    imported = [a for a in items if a["filename"] == "a.png"]
    assert len(imported) == 1 and imported[0]["deid"]["format"] == "PNG"
    assert (imported[0]["width"], imported[0]["height"]) == (640, 480)

    with transaction(world.rt.sessions) as db:
        root = db.get(User, world.users["orgadmin"])
        assert root is not None
        asset = assets.add_asset(
            db,
            world.rt,
            accounts.actor_for(root),
            project_id=other,
            filename="street.jpg",
            stream=io.BytesIO(_exif_jpeg()),
        )
        asset_id = asset.id
    with world.rt.read() as db:
        stored = db.get(Asset, asset_id)
        assert stored is not None and stored.deid is not None
        assert {"exif", "gps"} <= set(stored.deid["removed"])
    _assert_no_metadata(_content(world, "orgadmin", other, asset_id))

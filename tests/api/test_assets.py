"""Uploads as hostile files: every bad file gets a 4xx naming the problem, and nothing is
half-written (no blob, no row, no temp file)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from labelproof.store.models import Asset
from tests.world import World, png_bytes


def _counts(world: World) -> tuple[int, int, int]:
    with world.rt.sessions() as db:
        rows = db.scalar(select(func.count()).select_from(Asset)) or 0
    blobs = len(world.rt.blobs.all_digests())
    tmp = len(list((world.rt.settings.blob_dir / "tmp").iterdir()))
    return rows, blobs, tmp


def _upload(world: World, name: str, data: bytes, who: str = "program_manager"):  # type: ignore[no-untyped-def]
    return world.client(who).post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": (name, data, "application/octet-stream")},
    )


def _png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_good_png_and_jpeg_are_stored_and_readable(world: World) -> None:
    before = _counts(world)
    data = png_bytes(100, 50, seed=5)
    r = _upload(world, "scan.png", data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["width"], body["height"], body["media_type"]) == (100, 50, "image/png")
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buf, format="JPEG")
    assert _upload(world, "photo.jpg", buf.getvalue()).status_code == 201
    assert _counts(world) == (before[0] + 2, before[1] + 2, 0)
    content = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{body['id']}/content"
    )
    assert content.status_code == 200 and content.content == data
    assert content.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("name", "make", "status", "fragment"),
    [
        ("fake.png", lambda: b"GIF89a" + b"\x00" * 100, 400, "not a supported image"),
        ("photo.png", lambda: _jpeg(), 400, "extension says .png but the content is JPEG"),
        ("cut.png", lambda: png_bytes(200, 200)[:300], 400, "damaged or truncated"),
        ("empty.png", lambda: b"", 400, "empty"),
        ("bomb.png", lambda: _png_header_claiming(50_000, 50_000), 413, "over the pixel limit"),
        ("wide.png", lambda: _png_header_claiming(2_000_000, 1), 400, "absurd dimensions"),
        ("x" * 300 + ".png", lambda: png_bytes(), 400, "longer than 255 bytes"),
    ],
)
def test_hostile_uploads_are_refused_cleanly(
    world: World,
    name: str,
    make,
    status: int,  # type: ignore[no-untyped-def]
    fragment: str,
) -> None:
    world.rt = world.rt  # the same runtime the app uses
    before = _counts(world)
    r = _upload(world, name, make())
    assert r.status_code == status, r.text
    assert fragment in r.json()["message"]
    assert r.json()["field"] == "file"
    assert _counts(world) == before


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(buf, format="JPEG")
    return buf.getvalue()


def test_size_limit_refuses_without_leftovers(world: World) -> None:
    app_rt = world.app_client.app.state.runtime
    app_rt_limited = type(app_rt)(
        settings=app_rt.settings.with_changes(max_upload_bytes=1000),
        engine=app_rt.engine,
        sessions=app_rt.sessions,
        blobs=app_rt.blobs,
    )
    world.app_client.app.state.runtime = app_rt_limited
    before = _counts(world)
    r = _upload(world, "big.png", png_bytes(200, 200))
    assert r.status_code == 413 and "larger than the limit of 1000 bytes" in r.json()["message"]
    assert _counts(world) == before


def test_path_in_filename_is_reduced_to_its_name(world: World) -> None:
    r = _upload(world, "../../etc/passwd.png", png_bytes())
    assert r.status_code == 201 and r.json()["filename"] == "passwd.png"
    assert not (Path(world.rt.settings.data_dir).parent / "etc").exists()


def test_annotator_cannot_upload_and_outsider_sees_nothing(world: World) -> None:
    assert _upload(world, "a.png", png_bytes(), who="annotator").status_code == 403
    r = _upload(world, "a.png", png_bytes(), who="outsider")
    assert r.status_code == 404
    assert (
        world.client("outsider")
        .get(f"/api/projects/{world.project_id}/assets/{world.asset_id}/content")
        .status_code
        == 404
    )


def test_duplicate_content_shares_one_blob(world: World) -> None:
    data = png_bytes(33, 33, seed=9)
    before = _counts(world)
    assert _upload(world, "one.png", data).status_code == 201
    assert _upload(world, "two.png", data).status_code == 201
    assert _counts(world) == (before[0] + 2, before[1] + 1, 0)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("bad\x07name.png", "control characters"),
        ("caf\udce9.png", "not valid UTF-8"),
        ("", "no file name"),
        ("..", "is not a file name"),
        ("a/b/..", "is not a file name"),
    ],
)
def test_file_names_that_are_refused(raw: str, fragment: str) -> None:
    from labelproof.errors import InvalidFile
    from labelproof.services.images import clean_filename

    with pytest.raises(InvalidFile, match=fragment):
        clean_filename(raw)


def test_windows_and_posix_paths_are_reduced() -> None:
    from labelproof.services.images import clean_filename

    assert clean_filename("C:\\Users\\x\\scan.png") == "scan.png"
    assert clean_filename("/tmp/../scan.png") == "scan.png"


def _zip(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    import stat
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _upload_zip(world: World, data: bytes, who: str = "program_manager"):  # type: ignore[no-untyped-def]
    return world.client(who).post(
        f"/api/projects/{world.project_id}/assets/archive",
        files={"file": ("batch.zip", data, "application/zip")},
    )


def test_zip_of_images_makes_assets_and_tasks(world: World) -> None:
    before = _counts(world)
    r = _upload_zip(world, _zip({"a/one.png": png_bytes(seed=21), "two.png": png_bytes(seed=22)}))
    assert r.status_code == 201, r.text
    assert sorted(a["filename"] for a in r.json()) == ["one.png", "two.png"]
    assert _counts(world) == (before[0] + 2, before[1] + 2, 0)
    tasks = world.client("annotator").get(f"/api/projects/{world.project_id}/tasks").json()
    assert {t["asset_id"] for t in tasks["items"]} >= {a["id"] for a in r.json()}


@pytest.mark.parametrize(
    ("members", "links", "status", "fragment"),
    [
        ({"../evil.png": png_bytes()}, (), 400, "'..' in path refused"),
        ({"/abs.png": png_bytes()}, (), 400, "absolute"),
        ({"ok.png": png_bytes()}, ("link.png",), 400, "symbolic link refused"),
        ({"ok.png": png_bytes(), "bad.png": b"GIF89a" + b"\0" * 50}, (), 400, "member 'bad.png'"),
        ({"bomb.png": b"\0" * 30_000_000}, (), 413, "zip bomb"),
        ({}, (), 400, "holds no files"),
    ],
)
def test_hostile_archives_store_nothing(
    world: World, members: dict[str, bytes], links: tuple[str, ...], status: int, fragment: str
) -> None:
    before = _counts(world)
    r = _upload_zip(world, _zip(members, links=links))
    assert r.status_code == status, r.text
    assert fragment in r.json()["message"]
    assert str(world.rt.settings.data_dir) not in r.json()["message"]
    assert _counts(world) == before


def test_not_a_zip_is_refused(world: World) -> None:
    r = _upload_zip(world, png_bytes())
    assert r.status_code == 400 and "not a zip archive" in r.json()["message"]

"""The slide checks without a server: the TIFF directory walk, the OpenSlide worker's probe
and pyramid, and what happens when the worker crashes, hangs or meets a damaged tile."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from labelproof.errors import FileTooLarge, InvalidFile
from labelproof.services import slides
from labelproof.services.images import inspect_image
from tests.slides.make import (
    corrupt_tile,
    write_generic_tiff,
    write_plain_tiff,
    write_svs,
    write_tiff_claiming,
)

LIMITS = {"max_pixels": 40_000 * 40_000, "max_slide_pixels": 200_000 * 200_000}


@pytest.fixture(scope="module")
def svs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_svs(tmp_path_factory.mktemp("svs") / "s.svs", 3000, 2600)


def test_layout_of_an_svs(svs: Path) -> None:
    layout = slides.tiff_layout(svs, name="s.svs")
    assert not layout.bigtiff
    assert [(p.width, p.height, p.tiled) for p in layout.pages] == [
        (3000, 2600, True),
        (1000, 867, False),  # the stripped thumbnail (every 3rd pixel)
        (750, 650, True),
    ]
    assert layout.largest.width == 3000


def test_bigtiff_slide_is_accepted_and_plain_bigtiff_refused(tmp_path: Path) -> None:
    big = write_generic_tiff(tmp_path / "b.tif", 2000, 1500, bigtiff=True)
    assert slides.tiff_layout(big, name="b.tif").bigtiff
    info = inspect_image(big, filename="b.tif", **LIMITS)
    assert info.format == "WSI" and (info.width, info.height) == (2000, 1500)
    assert info.media_meta is not None and info.media_meta["vendor"] == "generic-tiff"
    plain = write_plain_tiff(tmp_path / "p.tif", bigtiff=True)
    with pytest.raises(InvalidFile, match=r"p\.tif: not a whole-slide image OpenSlide can read"):
        inspect_image(plain, filename="p.tif", **LIMITS)


def test_directory_loop_and_bad_offsets_are_refused(tmp_path: Path) -> None:
    data = bytearray(write_tiff_claiming(tmp_path / "x.tif", 500, 500).read_bytes())
    (first,) = struct.unpack("<I", data[4:8])
    (n,) = struct.unpack("<H", data[first : first + 2])
    looped = bytearray(data)
    looped[first + 2 + 12 * n : first + 6 + 12 * n] = struct.pack("<I", first)
    (tmp_path / "loop.tif").write_bytes(bytes(looped))
    with pytest.raises(InvalidFile, match=r"loop\.tif: a damaged TIFF: its directories loop"):
        slides.tiff_layout(tmp_path / "loop.tif", name="loop.tif")
    outside = bytearray(data)
    outside[4:8] = struct.pack("<I", len(data) + 100)
    (tmp_path / "out.tif").write_bytes(bytes(outside))
    with pytest.raises(InvalidFile, match=r"out\.tif: a damaged or truncated TIFF: directory 0"):
        slides.tiff_layout(tmp_path / "out.tif", name="out.tif")


def test_pixel_limits_come_before_openslide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(slides, "probe", lambda path, name: calls.append(path))
    huge = write_tiff_claiming(tmp_path / "h.tif", 250_000, 250_000)
    with pytest.raises(FileTooLarge, match="over the whole-slide pixel limit of 40000000000"):
        inspect_image(huge, filename="huge.svs", **LIMITS)
    assert calls == []


def test_probe_and_pyramid_of_an_svs(svs: Path) -> None:
    facts = slides.probe(svs, name="s.svs")
    assert facts is not None and facts.vendor == "aperio"
    assert facts.levels == ((3000, 2600), (750, 650))
    tiles = list(slides.stream_pyramid(svs, name="s.svs", tile_size=256))
    top = 12  # ceil(log2(3000))
    per_level: dict[int, set[tuple[int, int]]] = {}
    for level, col, row, data in tiles:
        assert data[:3] == b"\xff\xd8\xff"
        per_level.setdefault(level, set()).add((col, row))
    assert sorted(per_level) == list(range(top + 1))
    for level, cells in per_level.items():
        w, h = -(-3000 // 2 ** (top - level)), -(-2600 // 2 ** (top - level))
        want = {(c, r) for c in range(-(-w // 256)) for r in range(-(-h // 256))}
        assert cells == want, level
    assert len(tiles) == sum(len(c) for c in per_level.values())  # each tile once


def test_plain_tiff_is_no_slide(tmp_path: Path) -> None:
    assert slides.probe(write_plain_tiff(tmp_path / "p.tif"), name="p.tif") is None


def test_damaged_tile_fails_the_cut_naming_the_file(svs: Path, tmp_path: Path) -> None:
    bad = corrupt_tile(svs, tmp_path / "bad.svs")
    assert slides.tiff_layout(bad, name="bad.svs").pages[0].tiled  # well-formed
    with pytest.raises(InvalidFile, match=r"bad\.svs: cutting the slide's tiles failed \(Open"):
        for _ in slides.stream_pyramid(bad, name="bad.svs", tile_size=256):
            pass


def test_a_crashing_worker_is_a_refused_file(svs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(slides, "_command", lambda *a: [sys.executable, "-c", crash])
    with pytest.raises(InvalidFile, match=r"s\.svs: a damaged or unreadable whole-slide image"):
        slides.probe(svs, name="s.svs")


def test_a_hanging_worker_is_stopped(svs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slides, "_command", lambda *a: [sys.executable, "-c", "while 1: pass"])
    monkeypatch.setattr(slides, "PROBE_TIMEOUT_S", 1)
    with pytest.raises(InvalidFile, match=r"s\.svs: reading the slide took over 1 s"):
        slides.probe(svs, name="s.svs")


def test_the_worker_sees_the_upload_extension(tmp_path: Path) -> None:
    staged = tmp_path / "up-1234"
    staged.write_bytes(b"x")
    with slides.named(staged, ".ndpi") as link:
        assert link.name == "slide.ndpi" and link.read_bytes() == b"x"
    assert not link.exists()
    with slides.named(staged, "") as same:
        assert same == staged

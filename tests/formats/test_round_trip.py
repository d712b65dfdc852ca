"""Every registered codec round-trips every type it declares, through the one helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelproof.formats import DEFAULT_REGISTRY, get_codec

from .roundtrip import EXAMPLES, assert_round_trip, sample_dataset

CASES = [
    (name, t)
    for name in DEFAULT_REGISTRY.names()
    for t in sorted(get_codec(name).writes & get_codec(name).reads)
]


@pytest.mark.parametrize(("codec_name", "type_name"), CASES)
def test_each_type_round_trips(codec_name: str, type_name: str, tmp_path: Path) -> None:
    codec = get_codec(codec_name)
    ds = sample_dataset([type_name])
    back, wrep = assert_round_trip(codec, ds, tmp_path)
    assert wrep.by_type[type_name] == 2
    assert len(back) == 2


@pytest.mark.parametrize("codec_name", DEFAULT_REGISTRY.names())
def test_everything_at_once_is_carried_or_reported(codec_name: str, tmp_path: Path) -> None:
    codec = get_codec(codec_name)
    ds = sample_dataset(sorted(EXAMPLES))
    out = tmp_path / "out"
    out.mkdir()
    wrep = codec.write(ds, out)
    total = len(ds)
    accounted = wrep.annotations + sum(wrep.dropped.values())
    assert accounted >= total, wrep.to_dict()
    assert wrep.by_type["cuboid"] == 0 and wrep.dropped, "3D cuboids have no place in 2D formats"
    back, rrep = codec.read(out)
    assert rrep.annotations == wrep.annotations == len(back)
    assert rrep.images == len(ds.images)


@pytest.mark.parametrize("codec_name", DEFAULT_REGISTRY.names())
def test_empty_dataset(codec_name: str, tmp_path: Path) -> None:
    codec = get_codec(codec_name)
    ds = sample_dataset([])
    out = tmp_path / "out"
    out.mkdir()
    wrep = codec.write(ds, out)
    assert wrep.annotations == 0 and wrep.images == 0 and wrep.lossless

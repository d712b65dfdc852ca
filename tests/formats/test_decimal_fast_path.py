"""The vectorised decimal parser and the COCO box fast path: exact, and refusing anything
that is not provably a run of plain box records."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.formats import _decimal
from labelproof.formats._coco_fast import box_rows


def _parse(tokens: list[bytes]) -> np.ndarray | None:
    text = np.frombuffer(b" " * _decimal.PAD + b" ".join(tokens) + b" ", np.uint8)
    starts, ends = _decimal.spans(text)
    assert starts.shape[0] == len(tokens)
    return _decimal.parse(text, starts, ends)


def _bits(values: np.ndarray | list[float]) -> list[int]:
    bits: list[int] = np.asarray(values, np.float64).view(np.int64).tolist()
    return bits


decimals = st.builds(
    lambda sign, whole, frac: (sign + whole + (f".{frac}" if frac else "")).encode(),
    st.sampled_from(["", "-"]),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.one_of(st.just(""), st.from_regex(r"[0-9]{1,20}", fullmatch=True)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(decimals, min_size=1, max_size=60))
def test_parse_equals_python_float_bit_for_bit(tokens: list[bytes]) -> None:
    got = _parse(tokens)
    assert got is not None
    assert _bits(got) == _bits([float(t) for t in tokens])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
def test_parse_reads_back_shortest_repr(values: list[float]) -> None:
    tokens = [f"{v:.{d}f}".encode() for v, d in zip(values, range(40), strict=False)]
    tokens = [t for t in tokens if len(t) < 400]
    if tokens:
        got = _parse(tokens)
        assert got is not None
        assert _bits(got) == _bits([float(t) for t in tokens])


@pytest.mark.parametrize(
    "text,want",
    [
        (b"0", 0.0),
        (b"-0", -0.0),
        (b"-0.000", -0.0),
        (b"007.50", 7.5),
        (b"0.1", 0.1),
        (b"12345678", 12345678.0),
        (b"-12345678", -12345678.0),
        (b"123456789", 123456789.0),
        (b"1.23456789", 1.23456789),
        (b"12345678.12345678", 12345678.12345678),
        (b"9007199254740993", 9007199254740992.0),  # ties to even, as float() rounds
        (b"0.30000000000000004", 0.30000000000000004),
        (b"123456789012345678901234567890.5", 1.2345678901234568e29),
    ],
)
def test_parse_known_values(text: bytes, want: float) -> None:
    got = _parse([b"1", text, b"2"])
    assert got is not None
    assert _bits(got) == _bits([1.0, want, 2.0])


@pytest.mark.parametrize(
    "bad",
    [b"-", b".", b"1.", b".5", b"-.5", b"1..2", b"1.2.3", b"1-2", b"+1", b"1e5", b"--1",
     b"1a", b"12345678901234.5.6", b"123456789012.", b"1234567890123456789.x"],
)  # fmt: skip
def test_parse_refuses_non_decimals(bad: bytes) -> None:
    assert _parse([b"1", bad, b"2"]) is None


def test_parse_empty_and_tokens_at_the_start() -> None:
    empty = _decimal.parse(np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert empty is not None and empty.shape == (0,)
    text = np.frombuffer(b" 1 -2.5 123456789.25 7 ", np.uint8)
    starts, ends = _decimal.spans(text)
    got = _decimal.parse(text, starts, ends)
    assert got is not None and got.tolist() == [1.0, -2.5, 123456789.25, 7.0]
    with pytest.raises(ValueError, match="uint8"):
        _decimal.parse(text.astype(np.int16), starts, ends)


def test_parse_many_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_decimal, "BLOCK", 7)
    rng = np.random.default_rng(3)
    tokens = [f"{v:.{rng.integers(0, 12)}f}".encode() for v in rng.normal(0, 1e4, 500)]
    got = _parse(tokens)
    assert got is not None
    assert _bits(got) == _bits([float(t) for t in tokens])


# -- the COCO fast path ---------------------------------------------------------------------
REC = (
    b'{"id":1,"image_id":1,"category_id":7,"bbox":[82.17,343.37,28.05,22.13],'
    b'"area":620.75,"iscrowd":0,"segmentation":[]}'
)


def _columns_equal_orjson(chunk: bytes) -> None:
    cols = box_rows(chunk)
    assert cols is not None
    anns = orjson.loads(b"[" + chunk + b"]")
    for key in ("id", "image_id", "category_id", "area", "iscrowd"):
        assert _bits(cols[key]) == _bits([float(a[key]) for a in anns])
    for i, key in enumerate("xywh"):
        assert _bits(cols[key]) == _bits([float(a["bbox"][i]) for a in anns])


box_numbers = st.tuples(
    st.integers(0, 2**40),
    st.integers(0, 10**9),
    st.integers(1, 999),
    st.lists(
        st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.2f}"),
            st.floats(0, 1e5, allow_nan=False).map(repr),
            st.integers(-(10**6), 10**6).map(str),
        ),
        min_size=5,
        max_size=5,
    ),
    st.integers(0, 1),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(box_numbers, min_size=1, max_size=30), st.sampled_from([b",", b", ", b",\n  "]))
def test_box_rows_equal_orjson(records: list[tuple], sep: bytes) -> None:  # type: ignore[type-arg]
    parts = []
    for rid, img, cat, nums, crowd in records:
        if any("e" in t for t in nums):
            continue  # exponents are refused (tested below)
        x, y, w, h, area = nums
        parts.append(
            f'{{"id":{rid},"image_id":{img},"category_id":{cat},"bbox":[{x},{y},{w},{h}],'
            f'"area":{area},"iscrowd":{crowd},"segmentation":[]}}'.encode()
        )
    if parts:
        _columns_equal_orjson(sep.join(parts))


@pytest.mark.parametrize(
    "old,new",
    [
        (b"[82.17", b"[8e1"),  # exponent: would read as 81 if 'e' were dropped
        (b"[82.17", b"[82.17e0"),
        (b'"id":1,', b'"i1d":,'),  # digit slipped into a key, value missing
        (b'"id":1,', b'"id":1 ,'),  # whitespace differs from the first record
        (b'"bbox":[82.17', b'"bbox":5[82.17'),
        (b"22.13]", b"22.13]5"),
        (b'"area":620.75', b'"area":62 0.75'),
        (b'"area":620.75', b'"area":"620.75"'),
        (b'"iscrowd":0', b'"iscrowd":false'),
        (b'"iscrowd":0', b'"iscrowd":+0'),
        (b'"iscrowd":0', b'"iscrowd":0.'),
        (b'"iscrowd":0', b'"iscrowd":-'),
        (b"[]}", b"[]}7"),
        (b'{"id"', b'{5"id"'),
        (b'"area":620.75', b'"area":620.7.5'),
        (b"343.37", b"99999999999999999999"),  # an integer beyond 2**53: orjson reads it
    ],
)
def test_box_rows_refuses_what_is_not_a_plain_box_run(old: bytes, new: bytes) -> None:
    good = b",".join([REC, REC, REC])
    _columns_equal_orjson(good)
    changed = REC.replace(old, new, 1)
    assert changed != REC
    bad = b",".join([REC, changed, REC])
    assert box_rows(bad) is None


def test_box_rows_refuses_records_without_numbers() -> None:
    empty = b'{"id":,"image_id":,"category_id":,"bbox":[,,,],"area":,"iscrowd":,"segmentation":[]}'
    assert box_rows(b",".join([REC, REC, empty])) is None
    assert box_rows(b",".join([REC, empty, REC])) is None


def test_box_rows_negative_zero_and_layout_variants() -> None:
    chunk = b",".join([REC, REC.replace(b'"id":1', b'"id":-0'), REC.replace(b"82.17", b"-1.5")])
    cols = box_rows(chunk)
    assert cols is not None
    assert _bits(cols["id"]) == _bits([1.0, -0.0, 1.0])
    assert cols["x"].tolist() == [82.17, 82.17, -1.5]
    pretty = orjson.dumps(orjson.loads(b"[" + chunk + b"]"), option=orjson.OPT_INDENT_2)
    _columns_equal_orjson(pretty.strip()[1:-1].strip())
    assert box_rows(b"") is None
    assert box_rows(b'{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"x":1}') is None


@pytest.mark.parametrize("sep", [b"x,", b",x", b",,", b" , ,", b";"])
def test_box_rows_refuses_a_separator_that_is_not_a_comma(sep: bytes) -> None:
    """Records are separated by one comma and whitespace; anything else (even when every
    separator is the same) goes to orjson, which refuses it."""
    assert box_rows(sep.join([REC, REC, REC])) is None
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[" + sep.join([REC, REC, REC]) + b"]")


@pytest.mark.parametrize("sep", [b",", b", ", b" ,\n\t", b"\r\n,\r\n"])
def test_box_rows_takes_whitespace_around_the_comma(sep: bytes) -> None:
    _columns_equal_orjson(sep.join([REC, REC.replace(b"82.17", b"1.5"), REC]))

"""The suggestion outcomes and edit rate (labelproof.metrics.suggestions) on hand-made and
generated revision histories."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.metrics import (
    count_outcomes,
    suggestion_figures,
    suggestion_outcomes,
)

BOX = {"type": "box", "label": "object", "attributes": {}}
M = {**BOX, "source": "model", "confidence": 0.7}
H = {**BOX, "source": "human", "confidence": None}
G0 = {"x": 1, "y": 1, "w": 5, "h": 5}
G1 = {"x": 2, "y": 1, "w": 5, "h": 5}


def test_outcomes_on_a_plain_history() -> None:
    history: list[dict[str, Any]] = [
        {
            "number": 1,
            "author_id": 9,
            "annotations": [
                {**M, "id": "a", "geometry": G0},
                {**M, "id": "b", "geometry": G0},
                {**M, "id": "c", "geometry": G0},
                {**M, "id": "e", "geometry": G0, "label": "person"},
                {**H, "id": "x", "geometry": G0},
            ],
        },
        # b edited by 1, then moved back exactly by 2: accepted, credited to 2
        {
            "number": 2,
            "author_id": 1,
            "annotations": [
                {**H, "id": "a", "geometry": G0},
                {**H, "id": "b", "geometry": G1},
                {**M, "id": "e", "geometry": G1, "label": "person"},
            ],
        },
        {
            "number": 3,
            "author_id": 2,
            "annotations": [
                {**H, "id": "a", "geometry": G0},
                {**H, "id": "b", "geometry": G0},
                {**M, "id": "e", "geometry": G1, "label": "person"},
                {**M, "id": "d", "geometry": G1, "label": "person"},
                # x first appeared as a human object: never a suggestion
                {**M, "id": "x", "geometry": G0},
            ],
        },
    ]
    out = suggestion_outcomes(list(reversed(history)))  # any order
    assert {k: o.outcome for k, o in out.items()} == {
        "a": "accepted",
        "b": "accepted",
        "c": "deleted",
        "d": "pending",
        "e": "edited",  # still "model" but moved: edited
    }
    assert {k: (o.decided_by, o.decided_in) for k, o in out.items()} == {
        "a": (1, 2),
        "b": (2, 3),
        "c": (1, 2),
        "d": (None, None),
        "e": (1, 2),
    }
    assert out["a"].confidence == 0.7 and out["d"].label == "person"
    c = count_outcomes(out.values())
    assert (c.suggestions, c.accepted, c.edited, c.deleted, c.pending) == (5, 2, 1, 1, 1)
    assert c.edit_rate == 1 / 4 and c.deletion_rate == 1 / 4 and c.acceptance_rate == 2 / 4

    f = suggestion_figures(out.values())
    assert f.overall == c
    assert {k: v.suggestions for k, v in f.by_annotator.items()} == {1: 3, 2: 1, None: 1}
    assert f.by_annotator[1].edit_rate == 1 / 3 and f.by_annotator[2].acceptance_rate == 1.0
    assert f.by_annotator[None].edit_rate is None  # only pending: nothing decided
    assert list(f.by_label) == ["object", "person"]
    assert f.by_label["person"].edited == 1 and f.by_label["person"].pending == 1


def test_nothing_decided_has_no_rates() -> None:
    assert suggestion_outcomes([]) == {}
    c = count_outcomes([])
    assert c.suggestions == 0 and c.edit_rate is None and c.deletion_rate is None
    only = suggestion_outcomes([{"number": 1, "annotations": [{**M, "id": "a", "geometry": G0}]}])
    assert only["a"].outcome == "pending"
    assert count_outcomes(only.values()).edit_rate is None


def test_attribute_or_label_change_is_an_edit() -> None:
    first = {
        "number": 1,
        "annotations": [
            {**M, "id": "a", "geometry": G0},
            {**M, "id": "b", "geometry": G0},
            {**M, "id": "c", "geometry": G0},
        ],
    }
    last = {
        "number": 2,
        "annotations": [
            {**H, "id": "a", "geometry": G0, "attributes": {"occluded": True}},
            {**H, "id": "b", "geometry": G0, "label": "person"},
            {**H, "id": "c", "geometry": G0, "confidence": 0.1},  # confidence is not content
        ],
    }
    out = suggestion_outcomes([first, last])
    assert [out[k].outcome for k in "abc"] == ["edited", "edited", "accepted"]


# --- generated histories -------------------------------------------------------------------

IDS = [f"o{i}" for i in range(6)]
annotation = st.builds(
    lambda i, src, g, lab: {
        "id": i,
        "type": "box",
        "label": lab,
        "geometry": {"x": g, "y": 0, "w": 1, "h": 1},
        "attributes": {},
        "source": src,
        "confidence": 0.5 if src == "model" else None,
    },
    st.sampled_from(IDS),
    st.sampled_from(["model", "human"]),
    st.integers(0, 2),
    st.sampled_from(["a", "b"]),
)
revision_lists = st.lists(
    st.lists(annotation, max_size=6, unique_by=lambda a: a["id"]), max_size=6
).map(
    lambda revs: [
        {"number": n + 1, "author_id": n % 3, "annotations": anns} for n, anns in enumerate(revs)
    ]
)


@settings(max_examples=300, deadline=None)
@given(revision_lists)
def test_every_suggestion_has_exactly_one_outcome(history: list[dict[str, Any]]) -> None:
    out = suggestion_outcomes(history)
    # the suggestions are exactly the ids whose first appearance is a model annotation
    first: dict[str, str] = {}
    for rev in history:
        for a in rev["annotations"]:
            first.setdefault(a["id"], a["source"])
    assert set(out) == {i for i, s in first.items() if s == "model"}

    c = count_outcomes(out.values())
    assert c.accepted + c.edited + c.deleted + c.pending == c.suggestions == len(out)
    decided = c.accepted + c.edited + c.deleted
    if decided:
        assert c.edit_rate is not None and c.deletion_rate is not None
        assert c.acceptance_rate is not None
        assert abs(c.edit_rate + c.deletion_rate + c.acceptance_rate - 1) < 1e-9
    else:
        assert c.edit_rate is None and c.deletion_rate is None

    f = suggestion_figures(out.values())
    for part in (f.by_annotator, f.by_label):
        assert sum(v.suggestions for v in part.values()) == c.suggestions
        for k in ("accepted", "edited", "deleted", "pending"):
            assert sum(getattr(v, k) for v in part.values()) == getattr(c, k)
    # pending ones are credited to nobody, decided ones to a revision's author
    authors = {r["author_id"] for r in history}
    for o in out.values():
        if o.outcome == "pending":
            assert o.decided_by is None
        else:
            assert o.decided_by in authors and o.decided_in is not None

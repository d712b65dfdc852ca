"""Scoring annotation sets against each other with the metrics engine (no database).

An annotation set is a list of canonical annotations (``{"id", "type", "label",
"geometry", ...}``). Sets are compared per annotation type with
``labelproof.metrics.matching.match`` (Hungarian within a label, then leftovers across
labels as confusions) at the policy's similarity threshold.

- :func:`accuracy_counts`: one set against a reference. ``correct`` = pairs matched with
  the same label, ``matched`` = all matched pairs (same label or confused), ``missed`` =
  reference objects left unpaired, ``extra`` = objects of the set left unpaired;
  accuracy = correct / (matched + missed + extra), undefined (None) when that is 0.
- :func:`cluster`: the units of agreement. Sets are taken in order; the first set's
  objects found clusters, each later set's objects join the cluster whose representative
  (first member) they match (within or across labels), the rest found new clusters.
- :func:`label_alpha`: nominal Krippendorff's alpha over units x raters where a rater's
  value in a unit is the label of their member, or ``"<none>"`` when they drew nothing
  there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Item = dict[str, Any]
NONE = "<none>"

ALPHA_DEFINITION = (
    "Nominal Krippendorff's alpha (labelproof.metrics.agreement.krippendorff_alpha) over "
    "units x raters: a unit is a cluster of objects matched across annotators at the "
    "policy's IoU threshold (anchored on the reference's objects when there is one); a "
    "rater's value is the label of their object in the unit, or '<none>' when they drew "
    "none. Undefined (null, with the reason) when every value is the same or there is no "
    "unit."
)
ACCURACY_DEFINITION = (
    "accuracy = correct / (matched + missed + extra), summed over tasks: objects are matched "
    "to the reference per annotation type by Hungarian assignment at the policy's IoU "
    "threshold (within a label first, then across labels); correct = matched with the "
    "reference's label, missed = reference objects left unmatched, extra = objects left "
    "unmatched. Null when the denominator is 0."
)


@dataclass(frozen=True)
class Counts:
    correct: int = 0
    matched: int = 0
    missed: int = 0
    extra: int = 0

    @property
    def denominator(self) -> int:
        return self.matched + self.missed + self.extra

    @property
    def accuracy(self) -> float | None:
        return None if self.denominator == 0 else self.correct / self.denominator

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.correct + other.correct,
            self.matched + other.matched,
            self.missed + other.missed,
            self.extra + other.extra,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "matched": self.matched,
            "missed": self.missed,
            "extra": self.extra,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True)
class Pair:
    """Object ``a`` of set A paired with object ``b`` of set B (indices into the sets)."""

    a: int
    b: int
    same_label: bool
    similarity: float


def _by_type(items: Sequence[Item]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        out.setdefault(str(item["type"]), []).append(i)
    return out


def pair_sets(a: Sequence[Item], b: Sequence[Item], threshold: float) -> list[Pair]:
    """Pairs between sets ``a`` and ``b`` (same type; same label first, then confusions)."""
    from labelproof.metrics.matching import match

    ta, tb = _by_type(a), _by_type(b)
    pairs: list[Pair] = []
    for type_name in sorted(set(ta) & set(tb)):
        ia, ib = ta[type_name], tb[type_name]
        result = match(
            [{"label": a[i]["label"], "geometry": a[i]["geometry"]} for i in ia],
            [{"label": b[j]["label"], "geometry": b[j]["geometry"]} for j in ib],
            type_name=type_name,
            threshold=threshold,
            boundary=False,
        )
        for m in result.matches:
            pairs.append(Pair(ia[m.gt_index], ib[m.pred_index], True, m.similarity))
        for m in result.confusions:
            pairs.append(Pair(ia[m.gt_index], ib[m.pred_index], False, m.similarity))
    return sorted(pairs, key=lambda p: p.a)


def accuracy_counts(reference: Sequence[Item], got: Sequence[Item], threshold: float) -> Counts:
    """Counts of ``got`` against ``reference`` (see the module docstring)."""
    pairs = pair_sets(reference, got, threshold)
    correct = sum(1 for p in pairs if p.same_label)
    return Counts(
        correct=correct,
        matched=len(pairs),
        missed=len(reference) - len(pairs),
        extra=len(got) - len(pairs),
    )


@dataclass(frozen=True)
class Unit:
    """One cluster: ``members[r]`` is the index of rater r's object in it, or None."""

    members: tuple[int | None, ...]


def cluster(sets: Sequence[Sequence[Item]], threshold: float) -> list[Unit]:
    """Greedy clustering of the objects of ``sets`` (R sets) into units, in set order."""
    units: list[list[int | None]] = []
    reps: list[tuple[int, int]] = []  # (set, index) of each unit's first member
    for r, items in enumerate(sets):
        rep_items = [sets[s][i] for s, i in reps]
        joined: set[int] = set()
        for p in pair_sets(rep_items, items, threshold) if rep_items else []:
            units[p.a][r] = p.b
            joined.add(p.b)
        for j in range(len(items)):
            if j not in joined:
                unit: list[int | None] = [None] * len(sets)
                unit[r] = j
                units.append(unit)
                reps.append((r, j))
    return [Unit(tuple(u)) for u in units]


def unit_values(sets: Sequence[Sequence[Item]], units: Sequence[Unit]) -> list[list[str]]:
    """Rows (R raters) x columns (U units) of labels, ``"<none>"`` where a rater has none."""
    return [
        [NONE if u.members[r] is None else str(sets[r][u.members[r]]["label"]) for u in units]  # type: ignore[index]
        for r in range(len(sets))
    ]


def unit_label(sets: Sequence[Sequence[Item]], unit: Unit, anchor: int | None = None) -> str:
    """The class of a unit: the anchor set's label if it has a member, else the majority
    label of the members (ties: alphabetical)."""
    if anchor is not None and unit.members[anchor] is not None:
        return str(sets[anchor][unit.members[anchor]]["label"])  # type: ignore[index]
    votes = Counter(str(sets[r][i]["label"]) for r, i in enumerate(unit.members) if i is not None)
    best = max(votes.values())
    return sorted(k for k, v in votes.items() if v == best)[0]


def label_alpha(rows: Sequence[Sequence[str | None]]) -> dict[str, Any]:
    """Nominal alpha of ``rows`` (R raters x U units, None = not rated) as a JSON-ready
    dict with the counts and the definition."""
    from labelproof.metrics.agreement import AgreementUndefined, krippendorff_alpha

    n_units = len(rows[0]) if rows else 0
    try:
        result = krippendorff_alpha([list(r) for r in rows], level="nominal", bootstrap=0)
    except AgreementUndefined as exc:
        return {
            "value": None,
            "undefined": str(exc.details.get("reason", "undefined")),
            "n_units": n_units,
            "n_raters": len(rows),
            "definition": ALPHA_DEFINITION,
        }
    return {
        "value": result.value,
        "undefined": None,
        "n_units": result.n_units,
        "n_raters": result.n_raters,
        "definition": ALPHA_DEFINITION,
    }


def pair_ious(sets: Sequence[Sequence[Item]], units: Sequence[Unit], rater: int) -> list[float]:
    """Similarities between ``rater``'s object and every other rater's object of the same
    type in each unit (one value per such pair)."""
    from labelproof.metrics.similarity import similarity_for

    out: list[float] = []
    for u in units:
        mine = u.members[rater]
        if mine is None:
            continue
        a = sets[rater][mine]
        for r, j in enumerate(u.members):
            if r == rater or j is None or sets[r][j]["type"] != a["type"]:
                continue
            b = sets[r][j]
            if a["type"] == "tag":
                out.append(1.0 if a["label"] == b["label"] else 0.0)
                continue
            sim = similarity_for(str(a["type"]))([a["geometry"]], [b["geometry"]])
            out.append(float(min(1.0, max(0.0, sim[0, 0]))))
    return out

"""Consensus of k annotators' sets of one task (no database).

``labelproof.metrics.consensus`` is not available yet, so this adapter merges with the
matching and similarity engine:

1. The k sets are clustered into units (``scoring.cluster``, at the policy's threshold).
2. A unit is kept when a strict majority of the k annotators drew an object in it.
3. Its label is the majority label (ties: alphabetical); its geometry is, for boxes, the
   coordinate-wise mean of the corners of the members with that label, for tags ``{}``,
   and for every other type the medoid (the member with the highest total similarity to
   the others with that label). Attributes come from the medoid / first such member.
4. Agreement is the nominal alpha of the units (``scoring.label_alpha``) and the mean
   pairwise similarity of the members; when alpha is undefined because every annotator
   gave the same value in every unit (or nobody drew anything) the agreement is 1.0, the
   observed agreement, and ``alpha_undefined`` says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labelproof.services.qa.scoring import Item, Unit, cluster, label_alpha, pair_ious, unit_values

MERGE_DEFINITION = (
    "Consensus: objects of the k annotators are clustered by matching at the policy's IoU "
    "threshold; a cluster drawn by a strict majority is kept with the majority label and, "
    "for boxes, the mean corners (other types: the medoid). Agreement = nominal "
    "Krippendorff's alpha over clusters x annotators ('<none>' where an annotator drew "
    "nothing); 1.0 when alpha is undefined because all values agree."
)


@dataclass(frozen=True)
class Merged:
    annotations: list[Item]
    agreement: dict[str, Any]


def _medoid(members: list[Item]) -> Item:
    if len(members) <= 2 or members[0]["type"] == "tag":
        return members[0]
    from labelproof.metrics.similarity import similarity_for

    sim = similarity_for(str(members[0]["type"]))(
        [m["geometry"] for m in members], [m["geometry"] for m in members]
    )
    totals = sim.sum(axis=1)
    return members[int(totals.argmax())]


def _mean_box(members: list[Item]) -> dict[str, float]:
    n = len(members)
    x0 = sum(float(m["geometry"]["x"]) for m in members) / n
    y0 = sum(float(m["geometry"]["y"]) for m in members) / n
    x1 = sum(float(m["geometry"]["x"]) + float(m["geometry"]["w"]) for m in members) / n
    y1 = sum(float(m["geometry"]["y"]) + float(m["geometry"]["h"]) for m in members) / n
    return {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}


def _merge_unit(sets: Sequence[Sequence[Item]], unit: Unit, index: int) -> Item:
    members = [sets[r][i] for r, i in enumerate(unit.members) if i is not None]
    votes = Counter(str(m["label"]) for m in members)
    best = max(votes.values())
    label = sorted(k for k, v in votes.items() if v == best)[0]
    chosen = [m for m in members if m["label"] == label]
    types = Counter(str(m["type"]) for m in chosen)
    type_name = types.most_common(1)[0][0]
    chosen = [m for m in chosen if m["type"] == type_name]
    base = _medoid(chosen)
    geometry = _mean_box(chosen) if type_name == "box" else base["geometry"]
    return {
        "id": f"consensus-{index}",
        "type": type_name,
        "label": label,
        "geometry": geometry,
        "attributes": dict(base.get("attributes") or {}),
        "source": "human",
        "confidence": len(chosen) / len(sets),
        "z_order": int(base.get("z_order", 0)),
    }


def merge(sets: Sequence[Sequence[Item]], threshold: float) -> Merged:
    """Merge k >= 1 annotation sets of one task (see the module docstring)."""
    k = len(sets)
    units = cluster(sets, threshold)
    kept = [u for u in units if sum(m is not None for m in u.members) * 2 > k]
    annotations = [_merge_unit(sets, u, i) for i, u in enumerate(kept)]
    alpha = label_alpha(unit_values(sets, units)) if k >= 2 else None
    if alpha is None:
        value: float | None = 1.0
    elif alpha["value"] is not None:
        value = float(alpha["value"])
    elif alpha["undefined"] in ("no_variation", "no_units"):
        value = 1.0
    else:
        value = None
    ious = [s for r in range(k) for s in pair_ious(sets, units, r)]
    return Merged(
        annotations=annotations,
        agreement={
            "value": value,
            "alpha": alpha,
            "mean_pair_similarity": sum(ious) / len(ious) if ious else None,
            "n_pairs": len(ious) // 2,
            "n_units": len(units),
            "n_kept": len(kept),
            "k": k,
            "definition": MERGE_DEFINITION,
        },
    )

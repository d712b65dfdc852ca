"""Consensus of k annotators' sets of one task (no database).

The sets are matched with the similarity engine and merged per type with
``labelproof.metrics.consensus``:

1. The k sets are clustered into units (``scoring.cluster``, at the policy's threshold).
2. A unit is kept when a strict majority of the k annotators drew an object in it.
3. Its label is the majority label (ties: alphabetical); its geometry, from the members
   with that label: boxes fused (``fuse_boxes``, weighted mean of the corners), masks
   pixel-voted (``vote_masks``), keypoints averaged by visibility (``merge_keypoints``),
   tags ``{}``, and every other type the medoid (the member with the highest total
   similarity to the others). Attributes come from the medoid.
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
    "threshold; a cluster drawn by a strict majority is kept with the majority label and a "
    "geometry merged per type (boxes fused, masks voted, keypoints averaged by visibility, "
    "others: the medoid). Agreement = nominal "
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


def _merged_geometry(type_name: str, chosen: list[Item], base: Item) -> Any:
    from labelproof.metrics.consensus import fuse_boxes, merge_keypoints, vote_masks

    geometries = [m["geometry"] for m in chosen]
    if len(geometries) == 1 or type_name == "tag":
        return base["geometry"]
    if type_name == "box":
        return fuse_boxes([[g] for g in geometries], iou_threshold=1e-9).boxes[0].geometry
    if type_name == "mask":
        return vote_masks(geometries).geometry
    if type_name == "keypoints":
        return merge_keypoints(geometries).geometry
    return base["geometry"]


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
    geometry = _merged_geometry(type_name, chosen, base)
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

"""Quality figures of a Label Studio project computed by ``labelproof.metrics``.

* :func:`compare`: a candidate (model predictions, every annotator, or one annotator)
  against a reference (the ground-truth or first annotation, or one annotator), task by
  task, with :class:`labelproof.metrics.MatchAccumulator` per annotation type.
* :func:`agreement`: agreement between the annotators of tasks annotated several times:
  Krippendorff's alpha (nominal) per ``Choices`` control, matched-IoU agreement per region
  type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

from labelproof.connectors._ls_schema import ProjectSchema, project_schema
from labelproof.connectors._ls_tasks import Block, blocks_of, image_size, read_blocks
from labelproof.errors import InvalidInput, LabelproofError
from labelproof.formats.model import Annotation as DatasetAnnotation
from labelproof.formats.model import Dataset
from labelproof.formats.report import LossReport
from labelproof.metrics import MatchAnnotation, MatchSummary

if TYPE_CHECKING:
    from labelproof.connectors._ls_http import LabelStudioClient
    from labelproof.metrics import AgreementResult, IouAgreement

PAIRING_THRESHOLD = 1e-9
"""Shapes of two annotators are paired when their similarity exceeds this (any overlap)."""


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare`.

    ``by_type`` holds one :class:`MatchSummary` per annotation type (``per_class`` and
    ``per_annotator`` figures inside; a candidate annotator or model version is an
    "annotator"). ``n_evaluated`` counts (task, candidate) pairs where both a reference and
    the candidate exist; ``skipped`` counts tasks left out, by reason.
    """

    project_id: int
    reference: str
    candidate: str
    threshold: float
    n_tasks: int
    n_evaluated: int
    by_type: Mapping[str, MatchSummary]
    skipped: Mapping[str, int]
    read: LossReport

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "project": self.project_id,
            "reference": self.reference,
            "candidate": self.candidate,
            "threshold": self.threshold,
            "n_tasks": self.n_tasks,
            "n_evaluated": self.n_evaluated,
            "skipped": dict(self.skipped),
            "by_type": {k: v.to_dict() for k, v in self.by_type.items()},
            "read": self.read.to_dict(),
        }


def _users(client: LabelStudioClient) -> dict[int, str]:
    try:
        return {
            int(u["id"]): str(u.get("email") or u.get("username") or f"user {u['id']}")
            for u in client.list_users()
            if isinstance(u.get("id"), int)
        }
    except LabelproofError:  # not allowed to list users: fall back to "user <id>"
        return {}


def _first(blocks: Sequence[Block]) -> Block | None:
    return min(blocks, key=lambda b: b.order) if blocks else None


def _who(spec: str | int, users: Mapping[int, str]) -> str:
    """An annotator spec (user id, e-mail, or ``user <id>``) as a block source."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        return users.get(spec, f"user {spec}")
    text = str(spec).strip()
    return users.get(int(text), f"user {text}") if text.isdigit() else text


def _reference(
    blocks: Sequence[Block], spec: str | int, users: Mapping[int, str], exclude: str | None
) -> Block | None:
    human = [b for b in blocks if b.kind == "annotation" and b.source != exclude]
    if spec == "annotations":
        return _first([b for b in human if b.ground_truth]) or _first(human)
    if spec == "ground_truth":
        return _first([b for b in human if b.ground_truth])
    if spec == "predictions":
        return _first([b for b in blocks if b.kind == "prediction"])
    who = _who(spec, users)
    return _first([b for b in human if b.source == who])


def _candidates(
    blocks: Sequence[Block], spec: str | int, users: Mapping[int, str], ref: Block
) -> list[Block]:
    if spec == "predictions":
        by_model: dict[str, list[Block]] = defaultdict(list)
        for b in blocks:
            if b.kind == "prediction":
                by_model[b.source].append(b)
        return [b for b in (_first(v) for v in by_model.values()) if b is not None]
    human = [b for b in blocks if b.kind == "annotation" and b is not ref]
    if spec == "annotators":
        by_user: dict[str, list[Block]] = defaultdict(list)
        for b in human:
            if b.source != ref.source:
                by_user[b.source].append(b)
        return [b for b in (_first(v) for v in by_user.values()) if b is not None]
    who = _who(spec, users)
    found = _first([b for b in human if b.source == who])
    return [found] if found is not None else []


def _check_spec(value: str | int, name: str, words: tuple[str, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value in ("", 0):
        raise InvalidInput(
            f"{name}: one of {', '.join(words)}, a user id or an e-mail, got {value!r}",
            field=name,
        )


def as_match_annotations(
    items: Sequence[DatasetAnnotation], dataset: Dataset, tag: str
) -> dict[str, list[MatchAnnotation]]:
    """Dataset annotations -> metrics annotations (label = class name), grouped by type."""
    cats = dataset.category_by_id()
    out: dict[str, list[MatchAnnotation]] = defaultdict(list)
    for i, a in enumerate(items):
        out[a.type].append(
            MatchAnnotation(
                label=cats[a.label].name,
                geometry=a.geometry,
                type=a.type,
                id=f"{tag}:{i}",
                score=a.score,
            )
        )
    return out


def compare(
    client: LabelStudioClient,
    project_id: int,
    *,
    reference: str | int = "annotations",
    candidate: str | int = "predictions",
    threshold: float = 0.5,
    match_across_labels: bool = True,
) -> Comparison:
    """Match a candidate against a reference in every task of a project.

    Args:
        reference: ``"annotations"`` (per task the annotation marked ground truth, else the
            first one), ``"ground_truth"`` (marked ones only), ``"predictions"`` (the first
            prediction), or one annotator (user id or e-mail).
        candidate: ``"predictions"`` (each model version's first prediction), ``"annotators"``
            (each other annotator's first annotation), or one annotator.
        threshold: minimum similarity (IoU, OKS, label equality) of a match, in (0, 1].

    A task counts when it has the reference and the candidate; a prediction or annotation
    with no regions counts (every reference shape is then missed).
    """
    from labelproof.metrics import MatchAccumulator

    _check_spec(reference, "reference", ("annotations", "ground_truth", "predictions"))
    _check_spec(candidate, "candidate", ("predictions", "annotators"))
    if reference == candidate:
        raise InvalidInput(
            f"candidate: the same as the reference ({reference!r})", field="candidate"
        )
    if isinstance(threshold, bool) or not (
        isinstance(threshold, int | float) and 0.0 < threshold <= 1.0
    ):
        raise InvalidInput(f"threshold: must be in (0, 1], got {threshold!r}", field="threshold")
    schema = project_schema(client.get_project(project_id))
    users = _users(client)
    tasks = client.tasks(project_id)
    exclude = _who(candidate, users) if candidate not in ("predictions", "annotators") else None
    pairs: list[tuple[int, Block, Block]] = []
    skipped: dict[str, int] = defaultdict(int)
    for t in tasks:
        blocks = blocks_of(t, users)
        ref = _reference(blocks, reference, users, exclude)
        if ref is None:
            skipped["no reference"] += 1
            continue
        cands = _candidates(blocks, candidate, users, ref)
        if not cands:
            skipped["no candidate"] += 1
        pairs.extend((int(t["id"]), ref, c) for c in cands)
    per, ds, report = _read_pairs(pairs, schema, tasks)
    accs: dict[str, MatchAccumulator] = {}
    for k, (tid, _ref, cand) in enumerate(pairs):
        gt = as_match_annotations(per[2 * k], ds, f"{tid}:ref")
        pred = as_match_annotations(per[2 * k + 1], ds, f"{tid}:{cand.source}")
        for type_name in sorted(set(gt) | set(pred)):
            acc = accs.get(type_name)
            if acc is None:
                acc = accs[type_name] = MatchAccumulator(
                    type_name, threshold=threshold, match_across_labels=match_across_labels
                )
            acc.update(
                gt.get(type_name, []), pred.get(type_name, []), annotator=cand.source, image=tid
            )
    return Comparison(
        project_id=project_id,
        reference=str(reference),
        candidate=str(candidate),
        threshold=float(threshold),
        n_tasks=len(tasks),
        n_evaluated=len(pairs),
        by_type={k: accs[k].compute() for k in sorted(accs)},
        skipped=dict(skipped),
        read=report,
    )


def _read_pairs(
    pairs: Sequence[tuple[int, Block, Block]],
    schema: ProjectSchema,
    tasks: Sequence[Mapping[str, Any]],
) -> tuple[list[list[DatasetAnnotation]], Dataset, LossReport]:
    sizes = {int(t["id"]): s for t in tasks if (s := image_size(t)) is not None}
    flat = [b for _, ref, cand in pairs for b in (ref, cand)]
    return read_blocks(flat, schema, sizes=sizes)


# -- agreement between annotators ------------------------------------------------------------


@dataclass(frozen=True)
class RegionAgreement:
    """Matched-similarity agreement of one region type over every annotator pair of every
    task: ``matched`` same-label pairs (similarity > 0), ``unmatched`` shapes left over."""

    type_name: str
    summary: IouAgreement
    matched: int
    unmatched: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "type_name": self.type_name,
            "matched": self.matched,
            "unmatched": self.unmatched,
        }


@dataclass(frozen=True)
class Agreement:
    """The outcome of :func:`agreement`.

    ``choices`` maps each ``Choices`` control to Krippendorff's alpha (nominal; a unit is a
    task, a value the sorted chosen labels joined by ``|``) or to None, with the reason in
    ``undefined``; ``regions`` maps region types to :class:`RegionAgreement`.
    """

    project_id: int
    n_tasks: int
    n_multi: int
    annotators: tuple[str, ...]
    choices: Mapping[str, AgreementResult | None]
    undefined: Mapping[str, str]
    regions: Mapping[str, RegionAgreement]
    read: LossReport = field(repr=False, default_factory=lambda: LossReport("labelstudio", "read"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project_id,
            "n_tasks": self.n_tasks,
            "n_tasks_with_several_annotations": self.n_multi,
            "annotators": list(self.annotators),
            "choices": {
                k: (v.to_dict() if v is not None else {"value": None, "reason": self.undefined[k]})
                for k, v in self.choices.items()
            },
            "regions": {k: v.to_dict() for k, v in self.regions.items()},
            "read": self.read.to_dict(),
        }


def _choice_value(block: Block, control: str) -> str | None:
    picked: list[str] = []
    for r in block.result:
        if r.get("from_name") == control and r.get("type") == "choices":
            picked += [str(v) for v in (r.get("value") or {}).get("choices") or []]
    return "|".join(sorted(set(picked))) if picked else None


def agreement(
    client: LabelStudioClient,
    project_id: int,
    *,
    iou_threshold: float = 0.5,
    bootstrap: int = 1000,
    seed: int | None = 0,
) -> Agreement:
    """Agreement between Label Studio annotators on the tasks they annotated.

    Each annotator's first annotation of a task counts. Choices: Krippendorff's alpha per
    control (raters = annotators, units = tasks, missing where an annotator did not answer),
    with a ``bootstrap`` interval. Regions: in each task, for each pair of annotators and each
    region type, shapes are paired by Hungarian assignment within a label (any overlap);
    :func:`labelproof.metrics.matched_iou_agreement` summarises the paired similarities
    (IoU; OKS for keypoints) against ``iou_threshold``.
    """
    from labelproof.metrics import AgreementUndefined, krippendorff_alpha, match
    from labelproof.metrics import matched_iou_agreement as summarise

    if not (isinstance(iou_threshold, int | float) and 0.0 <= iou_threshold <= 1.0):
        raise InvalidInput(
            f"iou_threshold: must be in [0, 1], got {iou_threshold!r}", field="iou_threshold"
        )
    schema = project_schema(client.get_project(project_id))
    users = _users(client)
    tasks = client.tasks(project_id)
    per_task: list[tuple[int, dict[str, Block]]] = []
    for t in tasks:
        by_user: dict[str, list[Block]] = defaultdict(list)
        for b in blocks_of(t, users):
            if b.kind == "annotation":
                by_user[b.source].append(b)
        firsts = {u: first for u, v in by_user.items() if (first := _first(v)) is not None}
        per_task.append((int(t["id"]), firsts))
    annotators = tuple(sorted({u for _, f in per_task for u in f}))

    choices: dict[str, AgreementResult | None] = {}
    undefined: dict[str, str] = {}
    for control in (c.name for c in schema.controls if c.kind == "choices"):
        matrix = [
            [_choice_value(f[u], control) if u in f else None for _, f in per_task]
            for u in annotators
        ]
        try:
            choices[control] = krippendorff_alpha(matrix, bootstrap=bootstrap, seed=seed)
        except AgreementUndefined as exc:
            choices[control], undefined[control] = None, exc.message

    multi = [(tid, f) for tid, f in per_task if len(f) >= 2]
    flat = [f[u] for _, f in multi for u in sorted(f)]
    sizes = {int(t["id"]): s for t in tasks if (s := image_size(t)) is not None}
    per, ds, report = read_blocks(flat, schema, sizes=sizes)
    sims: dict[str, list[float]] = defaultdict(list)
    unmatched: dict[str, int] = defaultdict(int)
    k = 0
    for tid, f in multi:
        shapes = []
        for u in sorted(f):
            found = as_match_annotations(per[k], ds, f"{tid}:{u}")
            found.pop("tag", None)
            shapes.append(found)
            k += 1
        for one, two in combinations(shapes, 2):
            for type_name in sorted(set(one) | set(two)):
                res = match(
                    one.get(type_name, []),
                    two.get(type_name, []),
                    type_name=type_name,
                    threshold=PAIRING_THRESHOLD,
                    match_across_labels=False,
                    boundary=False,
                )
                sims[type_name] += [min(max(m.similarity, 0.0), 1.0) for m in res.matches]
                unmatched[type_name] += res.n_gt + res.n_pred - 2 * len(res.matches)
    regions = {
        t: RegionAgreement(t, summarise(sims[t], iou_threshold), len(sims[t]), unmatched[t])
        for t in sorted(set(sims) | set(unmatched))
    }
    return Agreement(
        project_id=project_id,
        n_tasks=len(tasks),
        n_multi=len(multi),
        annotators=annotators,
        choices=choices,
        undefined=undefined,
        regions=regions,
        read=report,
    )


__all__ = [
    "PAIRING_THRESHOLD",
    "Agreement",
    "Comparison",
    "RegionAgreement",
    "agreement",
    "compare",
]

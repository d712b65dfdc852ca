"""Label Studio tasks as the connector sees them: image names, result blocks, and the trip
through labelproof's Label Studio codec (``labelproof.formats.labelstudio``) both ways.

The codec reads and writes files, so every trip goes through a private temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from labelproof.connectors._ls_schema import ProjectSchema
from labelproof.formats import labelstudio as codec
from labelproof.formats.model import Annotation, Dataset
from labelproof.formats.report import LossReport

BlockKind = Literal["annotation", "prediction"]
_MIME_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def image_ref(task: Mapping[str, Any], image_key: str) -> str:
    """The task's image reference: ``data[image_key]``, else its first string value."""
    data = task.get("data")
    if not isinstance(data, Mapping):
        return ""
    value = data.get(image_key)
    if isinstance(value, str):
        return value
    return next((v for v in data.values() if isinstance(v, str)), "")


def image_name(task: Mapping[str, Any], image_key: str) -> str:
    """The file name of a task's image: the last path part of its URL (``?d=`` of Label
    Studio local files), ``task-<id>.<ext>`` for a data URI or an empty reference."""
    ref = image_ref(task, image_key)
    tid = task.get("id")
    if ref.startswith("data:") or not ref:
        mime = ref[5:].split(";", 1)[0].split(",", 1)[0].lower()
        return f"task-{tid}.{_MIME_EXT.get(mime, 'png' if ref else 'jpg')}"
    parts = urlsplit(ref)
    d = parse_qs(parts.query).get("d")
    name = PurePosixPath(unquote(d[0] if d else parts.path)).name
    return name or f"task-{tid}.jpg"


def image_size(task: Mapping[str, Any]) -> list[int] | None:
    """``data.labelproof_size`` ([width, height] in px) when the task carries it."""
    data = task.get("data")
    size = data.get("labelproof_size") if isinstance(data, Mapping) else None
    if (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        return size
    return None


@dataclass(frozen=True)
class Block:
    """One annotation or prediction of one task.

    ``source`` names who made it: the annotator (e-mail when known, else ``user <id>``) or
    the model version (``model <version>``). ``order`` is the block's Label Studio id.
    """

    task_id: int
    kind: BlockKind
    source: str
    result: tuple[Mapping[str, Any], ...]
    order: int = 0
    ground_truth: bool = False
    score: float | None = None
    user_id: int | None = None


def _user(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def blocks_of(task: Mapping[str, Any], users: Mapping[int, str]) -> list[Block]:
    """The task's annotations (cancelled ones, i.e. skips, left out) and predictions."""
    tid = int(task["id"])
    out: list[Block] = []
    for a in task.get("annotations") or []:
        if not isinstance(a, dict) or a.get("was_cancelled"):
            continue
        uid = _user(a.get("completed_by"))
        who = users.get(uid, f"user {uid}") if uid is not None else "user ?"
        out.append(
            Block(
                tid,
                "annotation",
                who,
                tuple(r for r in a.get("result") or [] if isinstance(r, dict)),
                order=int(a.get("id") or 0),
                ground_truth=bool(a.get("ground_truth")),
                user_id=uid,
            )
        )
    for p in task.get("predictions") or []:
        if not isinstance(p, dict):
            continue
        score = p.get("score")
        out.append(
            Block(
                tid,
                "prediction",
                f"model {p.get('model_version') or ''}".rstrip(),
                tuple(r for r in p.get("result") or [] if isinstance(r, dict)),
                order=int(p.get("id") or 0),
                score=float(score) if isinstance(score, int | float) else None,
            )
        )
    return out


def _export_task(
    tid: int, name: str, size: list[int] | None, blocks: Iterable[Block]
) -> dict[str, Any]:
    data: dict[str, Any] = {"image": name}
    if size is not None:
        data["labelproof_size"] = size
    task: dict[str, Any] = {"id": tid, "data": data, "annotations": [], "predictions": []}
    for b in blocks:
        if b.kind == "annotation":
            task["annotations"].append({"id": b.order, "result": list(b.result)})
        else:
            pred: dict[str, Any] = {"model_version": b.source, "result": list(b.result)}
            if b.score is not None:
                pred["score"] = b.score
            task["predictions"].append(pred)
    return task


def _codec_read(
    tasks: list[dict[str, Any]], schema: ProjectSchema, name: str
) -> tuple[Dataset, LossReport]:
    categories = [{"id": i, "name": v, "skeleton": None} for i, v in enumerate(schema.labels, 1)]
    with tempfile.TemporaryDirectory(prefix="labelproof-ls-") as tmp:
        folder = Path(tmp)
        (folder / "tasks.json").write_bytes(orjson.dumps(tasks))
        (folder / codec.CATEGORIES).write_bytes(orjson.dumps(categories))
        ds, report = codec.read(folder)
    ds.name = name
    return ds, report


def read_tasks(
    tasks: Sequence[Mapping[str, Any]],
    schema: ProjectSchema,
    *,
    include: Literal["all", "annotations", "predictions"] = "all",
    name: str = "labelstudio",
) -> tuple[Dataset, LossReport]:
    """Tasks as ``GET /api/tasks/?fields=all`` returns them -> a Dataset (image id = task
    id, human annotations with ``score=None``, predictions with a score) and the codec's
    loss report. Categories are the project's labels in configuration order (ids 1..N)."""
    out = []
    for t in tasks:
        blocks = [
            b
            for b in blocks_of(t, {})
            if include == "all" or f"{b.kind}s" == include  # annotations / predictions
        ]
        out.append(
            _export_task(int(t["id"]), image_name(t, schema.image_key), image_size(t), blocks)
        )
    return _codec_read(out, schema, name)


def read_blocks(
    blocks: Sequence[Block], schema: ProjectSchema, *, sizes: Mapping[int, list[int]]
) -> tuple[list[list[Annotation]], Dataset, LossReport]:
    """The annotations of each block, read through the codec in one pass (each block as a
    task of its own); returns (annotations per block, the dataset, the loss report).

    A block's regions carry their image's size; a block of choices only (no size anywhere)
    is read with a 1 x 1 px stand-in, which tags do not use."""
    pseudo = [
        _export_task(i + 1, f"block-{i + 1}.png", sizes.get(b.task_id) or [1, 1], [b])
        for i, b in enumerate(blocks)
    ]
    ds, report = _codec_read(pseudo, schema, "blocks")
    per: list[list[Annotation]] = [[] for _ in blocks]
    for a in ds.iter_annotations():
        per[a.image_id - 1].append(a)
    return per, ds, report


# -- push -------------------------------------------------------------------------------------


@dataclass
class PushResults:
    """Label Studio results made from a dataset: per image id, the regions and the mean
    region score (None when no region has one)."""

    regions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    scores: dict[int, float | None] = field(default_factory=dict)


def results_for(
    dataset: Dataset, schema: ProjectSchema, report: LossReport, *, as_predictions: bool
) -> PushResults:
    """Write ``dataset`` with the codec and bind each region to the project's controls;
    regions no control accepts are dropped into ``report`` (which also gets the codec's
    own write losses)."""
    with tempfile.TemporaryDirectory(prefix="labelproof-ls-") as tmp:
        written = codec.write(dataset, Path(tmp))
        tasks = orjson.loads((Path(tmp) / "tasks.json").read_bytes())
    for table, kinds in (
        (report.dropped, written.dropped),
        (report.approximated, written.approximated),
    ):
        table.update(kinds)
    for k, ex in written.examples.items():
        report.examples.setdefault(k, list(ex))
    names = {im.id: im.file_name for im in dataset.images}
    out = PushResults()
    for t in tasks:
        iid = int(t["id"])
        regions: list[dict[str, Any]] = []
        scores: list[float] = []
        for block in [*t.get("annotations", []), *t.get("predictions", [])]:
            for r in block.get("result", []):
                bound = _bind(r, schema, report, f"image {iid} ({names.get(iid, '?')})")
                if bound is None:
                    continue
                if "score" in bound:
                    if as_predictions:
                        scores.append(float(bound["score"]))
                    else:
                        del bound["score"]
                regions.append(bound)
                report.count(_TYPE_NAMES.get(str(r.get("type")), str(r.get("type"))), _label(r))
        out.regions[iid] = regions
        out.scores[iid] = sum(scores) / len(scores) if scores else None
    report.images = len(out.regions)
    return out


_TYPE_NAMES = {
    "rectanglelabels": "box",
    "polygonlabels": "polygon",
    "keypointlabels": "keypoints",
    "brushlabels": "mask",
    "choices": "tag",
}


def _label(region: Mapping[str, Any]) -> str:
    value = region.get("value") or {}
    labels = value.get(str(region.get("type"))) or [""]
    return str(labels[0])


def _bind(
    region: Mapping[str, Any], schema: ProjectSchema, report: LossReport, where: str
) -> dict[str, Any] | None:
    kind = str(region.get("type"))
    if str(region.get("from_name", "")).startswith("attr:"):
        report.drop("attribute: no control for it in the Label Studio project", where)
        return None
    label = _label(region)
    control = schema.control_for(kind, label)
    if control is None:
        report.drop(f"{kind} label {label!r}: no control of the project accepts it", where)
        return None
    bound = dict(region)
    bound["from_name"], bound["to_name"] = control.name, control.to_name
    return bound


__all__ = [
    "Block",
    "PushResults",
    "blocks_of",
    "image_name",
    "image_ref",
    "image_size",
    "read_blocks",
    "read_tasks",
    "results_for",
]

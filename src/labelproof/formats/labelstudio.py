"""Label Studio JSON export (a list of tasks with ``annotations`` and ``predictions``).

Regions: ``rectanglelabels`` (box; with ``rotation`` a rotated box, Label Studio rotating
about the top-left corner), ``polygonlabels``, ``keypointlabels`` (one region per keypoint,
labelled with the keypoint's name), ``brushlabels`` (Label Studio's own RLE) and
``choices`` (tags). Coordinates are percentages of ``original_width``/``original_height``.
Attributes travel as extra regions with the same ``id`` and ``from_name`` ``attr:<name>``.
``labelproof.categories.json`` next to ``tasks.json`` keeps skeletons and class ids.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from labelproof.annotypes import ImageSize, Skeleton, validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats import _ls_rle
from labelproof.formats._cvat_rle import encode_coco
from labelproof.formats._io import load_json, sniff
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport, where

NAME = "labelstudio"
TITLE = "Label Studio JSON (tasks, annotations, predictions)"
READS = frozenset({"box", "rotated_box", "polygon", "keypoints", "mask", "tag"})
WRITES = READS
CARRIES = frozenset({"attributes", "score"})
TOLERANCE = 1e-6
CATEGORIES = "labelproof.categories.json"
_KINDS = {
    "rectanglelabels": "box",
    "polygonlabels": "polygon",
    "keypointlabels": "keypoints",
    "brushlabels": "mask",
    "choices": "tag",
}


def _file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.suffix.lower() == ".json" else None
    for name in ("tasks.json", "result.json", "export.json"):
        if (path / name).is_file():
            return path / name
    return None


def detect(path: Path) -> float:
    f = _file(path) if path.exists() else None
    if f is None:
        return 0.0
    head = sniff(f, 1 << 16)
    if not head.lstrip().startswith(b"["):
        return 0.0
    score = 0.0
    if b'"data"' in head:
        score += 0.4
    if b'"annotations"' in head or b'"predictions"' in head:
        score += 0.3
    if b'"from_name"' in head or b'"result"' in head:
        score += 0.25
    return score


def _rot(dx: float, dy: float, deg: float) -> tuple[float, float]:
    a = math.radians(deg)
    return dx * math.cos(a) - dy * math.sin(a), dx * math.sin(a) + dy * math.cos(a)


def read(path: Path) -> tuple[Dataset, LossReport]:
    f = _file(path)
    if f is None:
        raise InvalidDataset(f"{path}: no Label Studio tasks JSON found", field="input")
    tasks = load_json(f)
    if not isinstance(tasks, list):
        raise InvalidDataset(f"{f}: a Label Studio export is a JSON array of tasks")
    ds = Dataset(name=f.stem)
    report = LossReport(NAME, "read")
    side = f.parent / CATEGORIES
    if side.is_file():
        for i, c in enumerate(load_json(side)):
            try:
                sk = Skeleton.from_json(c["skeleton"]) if c.get("skeleton") else None
                ds.categories.append(Category(int(c["id"]), str(c["name"]), sk))
            except (KeyError, TypeError, ValueError, InvalidInput) as exc:
                raise InvalidDataset(f"{side}: [{i}]: bad category ({exc})") from None
    by_name = {c.name: c for c in ds.categories}
    kp_owner = {kp: c for c in ds.categories if c.skeleton for kp in c.skeleton.keypoints}
    for t, task in enumerate(tasks):
        rec = f"{f}: task [{t}]"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InvalidDataset(f"{rec}: a task is an object with 'data'")
        data = task["data"]
        url = next((v for v in data.values() if isinstance(v, str)), None)
        if url is None:
            raise InvalidDataset(f"{rec}: data holds no image reference")
        iid = task.get("id", t + 1)
        if isinstance(iid, bool) or not isinstance(iid, int):
            raise InvalidDataset(f"{rec}: id must be an integer, got {iid!r}")
        blocks = [(a, None) for a in task.get("annotations") or []]
        blocks += [(p, p.get("score")) for p in task.get("predictions") or []]
        size = data.get("labelproof_size")
        for b, _ in blocks:
            for r in b.get("result") or []:
                if isinstance(r, dict) and "original_width" in r:
                    size = [r["original_width"], r["original_height"]]
                    break
        if not (
            isinstance(size, list)
            and len(size) == 2
            and all(isinstance(v, int) and v > 0 for v in size)
        ):
            report.drop("task with no image size (no region and no labelproof_size)", rec)
            continue
        name = _file_name(url) or f"{iid}.jpg"
        im = Image(iid, name, size[0], size[1])
        ds.images.append(im)
        if len([b for b, s in blocks if s is None]) > 1:
            report.notes.append(f"task {iid}: several annotations read into one image")
        for b, pscore in blocks:
            if not isinstance(b, dict):
                raise InvalidDataset(f"{rec}: annotations and predictions are objects")
            _result(b.get("result") or [], im, ds, by_name, kp_owner, report, rec, pscore, b)
    report.images = len(ds.images)
    return ds, report


def _result(
    items: list[Any],
    im: Image,
    ds: Dataset,
    by_name: dict[str, Category],
    kp_owner: dict[str, Category],
    report: LossReport,
    rec: str,
    pscore: Any,
    block: dict[str, Any],
) -> None:
    size = ImageSize(im.width, im.height)
    W, H = im.width / 100.0, im.height / 100.0
    attrs: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in items:
        if isinstance(r, dict) and str(r.get("from_name", "")).startswith("attr:"):
            text = (r.get("value") or {}).get("text") or [""]
            attrs[str(r.get("id"))][r["from_name"][5:]] = text[0]
    kp_groups: dict[tuple[int, str], list[float]] = {}
    is_pred = pscore is not None or "model_version" in block
    for j, r in enumerate(items):
        w_ = f"{rec}: result [{j}]"
        if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
            raise InvalidDataset(f"{w_}: a region is an object with 'value'")
        kind = r.get("type")
        if str(r.get("from_name", "")).startswith("attr:"):
            continue
        if kind not in _KINDS:
            report.drop(f"region type {kind!r}", where(im.id, im.file_name))
            continue
        v = r["value"]
        labels = v.get(kind) or []
        if not labels or not isinstance(labels[0], str):
            raise InvalidDataset(f"{w_}: value.{kind} must list a label")
        label = labels[0]
        score = r.get("score", pscore)
        if is_pred and score is None:
            score = 1.0
            report.approx(
                "prediction without a score read with score 1.0", where(im.id, im.file_name)
            )
        geom: dict[str, Any]
        try:
            if kind == "keypointlabels":
                inst = int(r.get("labelproof_instance", 0))
                kp_groups[(inst, label)] = [float(v["x"]) * W, float(v["y"]) * H, 2.0]
                continue
            cat = by_name.get(label) or _new_cat(ds, by_name, label)
            if kind == "rectanglelabels":
                x, y, w, h = (float(v[k]) for k in ("x", "y", "width", "height"))
                x, y, w, h = x * W, y * H, w * W, h * H
                rot = float(v.get("rotation") or 0.0)
                if rot:
                    dx, dy = _rot(w / 2, h / 2, rot)
                    geom = {"cx": x + dx, "cy": y + dy, "w": w, "h": h, "angle": rot}
                    t_name = "rotated_box"
                else:
                    geom, t_name = {"x": x, "y": y, "w": w, "h": h}, "box"
            elif kind == "polygonlabels":
                geom = {"points": [[float(p[0]) * W, float(p[1]) * H] for p in v["points"]]}
                t_name = "polygon"
            elif kind == "brushlabels":
                if v.get("format") != "rle":
                    raise InvalidDataset(f"{w_}: brush format {v.get('format')!r} is not 'rle'")
                geom = {"rle": encode_coco(_ls_rle.decode(v["rle"], im.height, im.width))}
                t_name = "mask"
            else:
                geom, t_name = {}, "tag"
            g = validate(t_name, geom, image=size)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InvalidDataset(f"{w_}: bad {kind} value ({exc})") from None
        except InvalidInput as exc:
            raise InvalidDataset(f"{w_}: {exc.message}") from None
        a = Annotation(im.id, t_name, cat.id, g, attributes=attrs.get(str(r.get("id")), {}))
        a.score = float(score) if score is not None else None
        ds.annotations.append(a)
        report.count(t_name, cat.name)
    _keypoints(kp_groups, im, ds, by_name, kp_owner, report, rec, pscore)


def _keypoints(
    groups: dict[tuple[int, str], list[float]],
    im: Image,
    ds: Dataset,
    by_name: dict[str, Category],
    kp_owner: dict[str, Category],
    report: LossReport,
    rec: str,
    pscore: Any,
) -> None:
    inst: dict[tuple[int, int], dict[str, list[float]]] = defaultdict(dict)
    for (n, kp), xyv in groups.items():
        cat = kp_owner.get(kp)
        if cat is None:  # a keypoint label with no skeleton: a one-point class of its own
            cat = by_name.get(kp) or _new_cat(ds, by_name, kp)
            cat.skeleton = cat.skeleton or Skeleton((kp,), (), kp)
            kp_owner[kp] = cat
        inst[(cat.id, n)][kp] = xyv
    cats = ds.category_by_id()
    for (cid, _), found in inst.items():
        cat = cats[cid]
        assert cat.skeleton is not None
        pts = [found.get(k, [0.0, 0.0, 0]) for k in cat.skeleton.keypoints]
        pts = [[p[0], p[1], int(p[2])] for p in pts]
        try:
            g = validate("keypoints", {"points": pts}, image=im.size, skeleton=cat.skeleton)
        except InvalidInput as exc:
            raise InvalidDataset(f"{rec}: keypoints of {cat.name!r}: {exc.message}") from None
        ds.annotations.append(
            Annotation(
                im.id, "keypoints", cid, g, score=float(pscore) if pscore is not None else None
            )
        )
        report.count("keypoints", cat.name)


def _new_cat(ds: Dataset, by_name: dict[str, Category], name: str) -> Category:
    cat = Category(ds.next_category_id(), name)
    ds.categories.append(cat)
    by_name[name] = cat
    return cat


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    from labelproof.formats._ls_write import write_labelstudio

    report = LossReport(NAME, "write")
    write_labelstudio(dataset, out_dir, report)
    (out_dir / CATEGORIES).write_bytes(
        orjson.dumps(
            [
                {
                    "id": c.id,
                    "name": c.name,
                    "skeleton": c.skeleton.to_json() if c.skeleton else None,
                }
                for c in dataset.categories
            ]
        )
    )
    return report


def _file_name(url: str) -> str:
    """The image file name of a task's data URL (``?d=`` of local files, else the path)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    d = parse_qs(parts.query).get("d")
    if d:
        return PurePosixPath(unquote(d[0])).name
    return PurePosixPath(unquote(parts.path)).name

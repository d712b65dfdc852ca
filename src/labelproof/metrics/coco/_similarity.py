"""IoU / OKS between detections and ground truths of the same group, as sparse pairs.

A group is one (image, category) — one image when categories are not used. Only pairs whose
similarity reaches the lowest effective threshold are kept: no other pair can ever match.
The arithmetic repeats pycocotools' operation for operation (``bbIou`` in ``maskApi.c``,
``COCOeval.computeOks``) so that every threshold comparison decides the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.metrics.coco._columns import F64, I64

B = npt.NDArray[np.bool_]
Pairs = tuple[I64, I64, F64]
_CHUNK_PAIRS = 1 << 22


def empty_pairs() -> Pairs:
    """No pairs: (det index (0,), gt index (0,), similarity (0,))."""
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)


def _pair_chunks(d_group: I64, g_group: I64) -> Iterator[tuple[I64, I64]]:
    """Every (det, gt) index pair sharing a group, in chunks of about 4M pairs.

    ``d_group`` (D,) and ``g_group`` (G,) must be sorted ascending.
    """
    start = np.searchsorted(g_group, d_group, side="left")
    cnt = np.searchsorted(g_group, d_group, side="right") - start
    csum = np.cumsum(cnt)
    total = int(csum[-1]) if len(csum) else 0
    lo = 0
    while lo < len(d_group) and total > 0:
        base = int(csum[lo - 1]) if lo else 0
        hi = int(np.searchsorted(csum, base + _CHUNK_PAIRS, side="right"))
        hi = max(hi, lo + 1)
        c = cnt[lo:hi]
        n = int(c.sum())
        if n:
            pd = np.repeat(np.arange(lo, hi, dtype=np.int64), c)
            first = np.cumsum(c) - c
            pg = np.repeat(start[lo:hi] - first, c) + np.arange(n, dtype=np.int64)
            yield pd, pg
        lo = hi


def pairs_by_group(
    d_group: I64, g_group: I64, sim: Callable[[I64, I64], F64], keep_from: float
) -> Pairs:
    """Pairs of the same group with ``sim(det_idx, gt_idx) >= keep_from``.

    Returns (det index (P,), gt index (P,), similarity (P,)), ordered by det then gt.
    """
    ds, gs, vs = [], [], []
    for pd, pg in _pair_chunks(d_group, g_group):
        v = sim(pd, pg)
        keep = v >= keep_from
        ds.append(pd[keep])
        gs.append(pg[keep])
        vs.append(v[keep])
    if not ds:
        return empty_pairs()
    return np.concatenate(ds), np.concatenate(gs), np.concatenate(vs)


def bbox_iou(d: F64, g: F64, crowd: B) -> F64:
    """IoU of boxes paired row by row: ``d`` (P, 4), ``g`` (P, 4) ``[x, y, w, h]``.

    For a crowd ground truth the union is the detection's area. Result (P,), in [0, 1].
    """
    dx, dy, dw, dh = d[:, 0], d[:, 1], d[:, 2], d[:, 3]
    gx, gy, gw, gh = g[:, 0], g[:, 1], g[:, 2], g[:, 3]
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    da = dw * dh
    union = np.where(crowd, da, da + gw * gh - inter)
    ok = (w > 0) & (h > 0)
    out = np.zeros(len(d), dtype=np.float64)
    np.divide(inter, union, out=out, where=ok)
    return out


def oks(dkp: F64, gkp: F64, gbox: F64, garea: F64, sigmas: F64) -> F64:
    """Object keypoint similarity of pairs, as ``COCOeval.computeOks``.

    ``dkp``/``gkp`` (P, 3K) ``x, y, v`` pixels; ``gbox`` (P, 4); ``garea`` (P,) pixels²;
    ``sigmas`` (K,). A ground truth with no visible keypoint measures the distance to its
    box doubled on each side. Result (P,).
    """
    p = len(dkp)
    out = np.zeros(p, dtype=np.float64)
    if p == 0:
        return out
    var = (sigmas * 2) ** 2
    xd, yd = dkp[:, 0::3], dkp[:, 1::3]
    xg, yg, vg = gkp[:, 0::3], gkp[:, 1::3], gkp[:, 2::3]
    vis = vg > 0
    k1 = np.count_nonzero(vis, axis=1)
    z = np.zeros_like(xd)
    x0 = (gbox[:, 0] - gbox[:, 2])[:, None]
    x1 = (gbox[:, 0] + gbox[:, 2] * 2)[:, None]
    y0 = (gbox[:, 1] - gbox[:, 3])[:, None]
    y1 = (gbox[:, 1] + gbox[:, 3] * 2)[:, None]
    has = (k1 > 0)[:, None]
    dx = np.where(has, xd - xg, np.maximum(z, x0 - xd) + np.maximum(z, xd - x1))
    dy = np.where(has, yd - yg, np.maximum(z, y0 - yd) + np.maximum(z, yd - y1))
    e = (dx**2 + dy**2) / var / (garea + np.spacing(1))[:, None] / 2
    # sum exactly like numpy sums e[vg > 0] (pairwise summation depends on the length)
    k = len(sigmas)
    for c in np.unique(k1):
        rows = np.flatnonzero(k1 == c)
        if c == 0:
            sub = e[rows]
        else:
            cols = np.argsort(~vis[rows], axis=1, kind="stable")[:, :c]
            sub = np.take_along_axis(e[rows], cols, axis=1)
        n = k if c == 0 else int(c)
        out[rows] = np.sum(np.exp(-np.ascontiguousarray(sub)), axis=1) / n
    return out


def segm_pairs(
    d_img: I64,
    d_group: I64,
    d_rles: list[dict[str, Any]],
    g_img: I64,
    g_group: I64,
    g_rles: list[dict[str, Any]],
    g_crowd: B,
    keep_from: float,
) -> Pairs:
    """Mask IoU pairs of the same group via ``pycocotools.mask.iou``, one call per image.

    Detections and ground truths must be sorted by image (then group). Returns (det index,
    gt index, IoU), ordered by det then gt.
    """
    from pycocotools import mask as mask_utils

    ds, gs, vs = [], [], []
    if len(d_img) == 0 or len(g_img) == 0:
        return empty_pairs()
    d_bounds = np.flatnonzero(np.r_[True, d_img[1:] != d_img[:-1], True])
    for a, b in itertools.pairwise(d_bounds):
        img = d_img[a]
        ga = int(np.searchsorted(g_img, img, "left"))
        gb = int(np.searchsorted(g_img, img, "right"))
        if ga == gb:
            continue
        m = np.asarray(
            mask_utils.iou(d_rles[a:b], g_rles[ga:gb], g_crowd[ga:gb].astype(np.uint8).tolist()),
            dtype=np.float64,
        ).reshape(b - a, gb - ga)
        same = d_group[a:b, None] == g_group[None, ga:gb]
        di, gi = np.nonzero(same & (m >= keep_from))
        ds.append(di + a)
        gs.append(gi + ga)
        vs.append(m[di, gi])
    if not ds:
        return empty_pairs()
    return np.concatenate(ds), np.concatenate(gs), np.concatenate(vs)

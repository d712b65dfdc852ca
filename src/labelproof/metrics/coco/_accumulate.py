"""Precision/recall tables and the 12 (or 10) summary numbers, as pycocotools computes them.

``accumulate`` fills ``precision`` (T, R, K, A, M) and ``recall`` (T, K, A, M) with -1
where a category has no non-ignored ground truth, like ``COCOeval.accumulate``; the running
counts are integers, the divisions are the same float operations in the same order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from labelproof.metrics.coco._columns import F64, I64

B = npt.NDArray[np.bool_]


def _min_counts(npig: I64, rec: F64) -> I64:
    """Smallest true-positive count c with ``c / npig >= r``, shape (K, A, R)."""
    n = np.maximum(npig, 1).astype(np.float64)[..., None]
    c = np.ceil(rec * n)
    for _ in range(4):
        down = (c > 0) & ((c - 1) / n >= rec)
        c = np.where(down, c - 1, c)
        up = c / n < rec
        c = np.where(up, c + 1, c)
    return c.astype(np.int64)


def accumulate(
    d_kcat: I64,
    d_img: I64,
    d_score: F64,
    d_rank: I64,
    d_out: B,
    matched: B,
    matched_ig: B,
    npig: I64,
    rec_thrs: F64,
    max_dets: tuple[int, ...],
) -> tuple[F64, F64]:
    """Precision and recall tables.

    Args:
        d_kcat, d_img, d_score, d_rank: (N,) category slot, image slot, score and rank in
            its group of every kept detection.
        d_out: (A, N) detection area outside area range a.
        matched, matched_ig: (T, A, N) from ``greedy_match``.
        npig: (K, A) number of non-ignored ground truths per category slot and area range.
        rec_thrs: (R,) recall thresholds.
        max_dets: (M,) ascending.

    Returns:
        precision (T, R, K, A, M) and recall (T, K, A, M); -1 where undefined.
    """
    t_n, a_n, n = matched.shape
    k_n = npig.shape[0]
    r_n, m_n = len(rec_thrs), len(max_dets)
    precision = -np.ones((t_n, r_n, k_n, a_n, m_n))
    recall = -np.ones((t_n, k_n, a_n, m_n))
    ignored = matched_ig | (~matched & d_out[None])
    tps = (matched & ~ignored).reshape(t_n * a_n, n)
    fps = (~matched & ~ignored).reshape(t_n * a_n, n)
    del ignored
    order = np.lexsort((d_rank, d_img, -d_score, d_kcat))
    row_a = np.tile(np.arange(a_n), t_n)
    rows = np.arange(t_n * a_n)
    cmin = _min_counts(npig, rec_thrs)
    eps = np.spacing(1)
    for m, md in enumerate(max_dets):
        om = order[d_rank[order] < md]
        bounds = np.searchsorted(d_kcat[om], np.arange(k_n + 1))
        for k in range(k_n):
            npk = npig[k, row_a]
            valid = npk > 0
            if not valid.any():
                continue
            t_of = rows[valid] // a_n
            a_of = row_a[valid]
            sel = om[bounds[k] : bounds[k + 1]]
            nd = len(sel)
            if nd == 0:
                recall[t_of, k, a_of, m] = 0.0
                precision[t_of, :, k, a_of, m] = 0.0
                continue
            tp = np.cumsum(tps[valid][:, sel], axis=1)
            fp = np.cumsum(fps[valid][:, sel], axis=1)
            tpf = tp.astype(np.float64)
            rc_last = tpf[:, -1] / npk[valid]
            pr = tpf / (fp.astype(np.float64) + tpf + eps)
            prm = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
            nrow = len(tp)
            off = np.arange(nrow, dtype=np.int64) * (nd + 1)
            keys = (tp + off[:, None]).ravel()
            c = np.minimum(cmin[k, a_of], nd + 1)
            idx = (
                np.searchsorted(keys, (c + off[:, None]).ravel(), side="left").reshape(nrow, r_n)
                - (np.arange(nrow) * nd)[:, None]
            )
            q = np.where(idx < nd, np.take_along_axis(prm, np.minimum(idx, nd - 1), axis=1), 0.0)
            recall[t_of, k, a_of, m] = rc_last
            precision[t_of, :, k, a_of, m] = q
    return precision, recall


def summarize(
    precision: F64,
    recall: F64,
    iou_thrs: F64,
    area_lbl: tuple[str, ...],
    max_dets: tuple[int, ...],
    keypoints: bool,
) -> list[float]:
    """``COCOeval.summarize()`` numbers: 12 for bbox/segm, 10 for keypoints."""

    def one(ap: bool, iou: float | None = None, area: str = "all", mdet: int = 100) -> float:
        aind = [i for i, lbl in enumerate(area_lbl) if lbl == area]
        mind = [i for i, m in enumerate(max_dets) if m == mdet]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thrs)[0]]
        s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
        valid = s[s > -1]
        return -1.0 if len(valid) == 0 else float(np.mean(valid))

    if keypoints:
        return [
            one(True, mdet=20),
            one(True, 0.5, mdet=20),
            one(True, 0.75, mdet=20),
            one(True, area="medium", mdet=20),
            one(True, area="large", mdet=20),
            one(False, mdet=20),
            one(False, 0.5, mdet=20),
            one(False, 0.75, mdet=20),
            one(False, area="medium", mdet=20),
            one(False, area="large", mdet=20),
        ]
    m0, m1, m2 = max_dets[0], max_dets[1], max_dets[2]
    return [
        one(True),
        one(True, 0.5, mdet=m2),
        one(True, 0.75, mdet=m2),
        one(True, area="small", mdet=m2),
        one(True, area="medium", mdet=m2),
        one(True, area="large", mdet=m2),
        one(False, mdet=m0),
        one(False, mdet=m1),
        one(False, mdet=m2),
        one(False, area="small", mdet=m2),
        one(False, area="medium", mdet=m2),
        one(False, area="large", mdet=m2),
    ]

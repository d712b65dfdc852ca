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
    ta = t_n * a_n
    ignored = matched_ig | (~matched & d_out[None])
    tps = (matched & ~ignored).reshape(ta, n)
    counted = (~ignored).reshape(ta, n)  # true or false positive
    del ignored
    order = np.lexsort((d_rank, d_img, -d_score, d_kcat))
    tps, counted = tps[:, order], counted[:, order]
    kcat_o, rank_o = d_kcat[order], d_rank[order]
    row_a = np.tile(np.arange(a_n), t_n)
    cmin = _min_counts(npig, rec_thrs)  # (K, A, R)
    q_all = np.zeros((ta, k_n, r_n))
    tp_all = np.zeros((ta, k_n), dtype=np.int64)
    precision = -np.ones((t_n, r_n, k_n, a_n, m_n))
    recall = -np.ones((t_n, k_n, a_n, m_n))
    defined = (npig > 0).T[None, :, :]  # (1, A, K)
    for m, md in enumerate(max_dets):
        sel = rank_o < md
        if sel.all():
            tp_m, cn_m, kc_m = tps, counted, kcat_o
        else:
            tp_m, cn_m, kc_m = tps[:, sel], counted[:, sel], kcat_o[sel]
        bounds = np.searchsorted(kc_m, np.arange(k_n + 1))
        step = max(1, min(ta, (1 << 23) // max(1, len(kc_m))))
        for r0 in range(0, ta, step):
            r1 = min(ta, r0 + step)
            q, tot = _precision_at_recall(
                tp_m[r0:r1],
                cn_m[r0:r1],
                kc_m,
                bounds,
                cmin[:, row_a[r0:r1], :].transpose(1, 0, 2),
            )
            q_all[r0:r1] = q
            tp_all[r0:r1] = tot
        # (T*A, K, R) -> (T, R, K, A); (T*A, K) -> (T, K, A)
        q4 = q_all.reshape(t_n, a_n, k_n, r_n).transpose(0, 3, 2, 1)
        rc = tp_all.reshape(t_n, a_n, k_n).astype(np.float64) / np.maximum(npig.T, 1)[None]
        precision[..., m] = np.where(defined.transpose(0, 2, 1)[:, None], q4, -1.0)
        recall[..., m] = np.where(defined, rc, -1.0).transpose(0, 2, 1)
    return precision, recall


def _precision_at_recall(tp: B, counted: B, kcat: I64, bounds: I64, cmin: I64) -> tuple[F64, I64]:
    """Interpolated precision at the recall thresholds for rows of ranked detections.

    Args:
        tp: (C, N) true positive flags of the detections in rank order (categories
            contiguous, ``bounds`` (K+1,) their limits; ``kcat`` (N,) their category).
        counted: (C, N) true or false positive (not ignored).
        cmin: (C, K, R) the true-positive count each recall threshold needs.

    Returns:
        precision (C, K, R) and true-positive totals (C, K).

    The precision made monotone (max over the suffix) only changes at true positives,
    and a recall threshold is first reached at a true positive, so only those are
    evaluated: precision of the j-th true positive is ``j / (counted so far + eps)``.
    """
    c_n, n = tp.shape
    k_n = len(bounds) - 1
    r_n = cmin.shape[2]
    cnc0 = np.zeros(c_n * n + 1, dtype=np.int64)
    np.cumsum(np.ascontiguousarray(counted).view(np.int8).ravel(), out=cnc0[1:])
    row0 = (np.arange(c_n, dtype=np.int64) * n)[:, None]
    base_cn = cnc0[row0 + bounds[None, :-1]]  # (C, K)
    f = np.flatnonzero(np.ascontiguousarray(tp).ravel())
    rr = f // n
    kk = kcat[f - rr * n]
    group = rr * k_n + kk
    total = np.bincount(group, minlength=c_n * k_n)
    gstart = np.zeros(c_n * k_n + 1, dtype=np.int64)
    np.cumsum(total, out=gstart[1:])
    nth = (np.arange(len(f)) - gstart[group] + 1).astype(np.float64)
    cnt = (cnc0[f + 1] - base_cn[rr, kk]).astype(np.float64)
    pr = nth / (cnt + np.spacing(1))
    gs = gstart[:-1].reshape(c_n, k_n, 1)
    ge = gstart[1:].reshape(c_n, k_n, 1)
    pos = np.minimum(gs + np.maximum(cmin, 1) - 1, ge)
    idx = np.concatenate([pos, ge], axis=2).ravel()
    vals = np.append(pr, 0.0)
    red = np.maximum.reduceat(vals, idx).reshape(c_n, k_n, r_n + 1)[:, :, :r_n]
    tot = total.reshape(c_n, k_n)
    ok = (cmin <= tot[:, :, None]) & (tot[:, :, None] > 0)
    red = np.where(ok, red, 0.0)
    q = np.maximum.accumulate(red[:, :, ::-1], axis=2)[:, :, ::-1]
    return q, tot


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

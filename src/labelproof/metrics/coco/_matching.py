"""Greedy matching of detections to ground truths, vectorised across groups.

pycocotools' ``evaluateImg`` walks the detections of one group in score order; each takes,
among the ground truths still free (crowds never become taken) whose similarity reaches
``min(t, 1 - 1e-10)``, the one with the highest similarity, the *last* one on ties — and it
prefers any non-ignored ground truth over an ignored one. The state (which ground truths are
taken) only depends on earlier detections of the same group, so the k-th detections of all
groups are matched together: one vectorised step per rank, for every IoU threshold (T) and
area range (A) at once.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from labelproof.metrics.coco._columns import F64, I64

B = npt.NDArray[np.bool_]


def greedy_match(
    pair_d: I64,
    pair_g: I64,
    pair_v: F64,
    d_rank: I64,
    n_det: int,
    g_ignore: B,
    g_crowd: B,
    g_nonzero_id: B,
    thrs: F64,
) -> tuple[B, B]:
    """Match detections to ground truths.

    Args:
        pair_d, pair_g, pair_v: candidate pairs (P,): detection index, ground-truth index,
            similarity. Detections are indexed 0..n_det-1; ground truths of one group must
            be indexed in pycocotools' order (the order within a group is what counts).
        d_rank: (n_det,) rank of each detection in its group by descending score.
        g_ignore: (A, G) ground truth ignored in area range a (crowd, out of range, ...).
        g_crowd: (G,) crowd flags: a crowd can match any number of detections.
        g_nonzero_id: (G,) whether the ground truth's id is non-zero (pycocotools stores
            the matched id, so a match with id 0 reads as "unmatched").
        thrs: (T,) IoU thresholds.

    Returns:
        ``matched`` (T, A, n_det): matched to a ground truth with a non-zero id;
        ``matched_ignored`` (T, A, n_det): matched to an ignored ground truth.
    """
    t_n = len(thrs)
    a_n = g_ignore.shape[0]
    matched = np.zeros((t_n, a_n, n_det), dtype=bool)
    matched_ig = np.zeros((t_n, a_n, n_det), dtype=bool)
    if len(pair_d) == 0:
        return matched, matched_ig
    eff = np.minimum(thrs, 1 - 1e-10)[:, None, None]
    taken = np.zeros((t_n, a_n, g_ignore.shape[1]), dtype=bool)
    order = np.lexsort((pair_g, pair_d, d_rank[pair_d]))
    pd, pg, pv = pair_d[order], pair_g[order], pair_v[order]
    ranks = d_rank[pd]
    bounds = np.flatnonzero(np.r_[True, ranks[1:] != ranks[:-1], True])
    for s, e in itertools.pairwise(bounds):
        d, g, v = pd[s:e], pg[s:e], pv[s:e]
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        seg_len = np.diff(np.r_[starts, len(d)])
        elig = (v >= eff) & (~taken[:, :, g] | g_crowd[g])
        reg = ~g_ignore[:, g][None, :, :]
        has_reg = np.logical_or.reduceat(elig & reg, starts, axis=2)
        cand = elig & (reg == np.repeat(has_reg, seg_len, axis=2))
        val = np.where(cand, v, -1.0)
        best = np.maximum.reduceat(val, starts, axis=2)
        sel = cand & (val == np.repeat(best, seg_len, axis=2))
        pos = np.where(sel, np.arange(len(d)), -1)
        chosen = np.maximum.reduceat(pos, starts, axis=2)
        ti, ai, si = np.nonzero(chosen >= 0)
        if len(ti) == 0:
            continue
        c = chosen[ti, ai, si]
        gm = g[c]
        dm = d[starts[si]]
        taken[ti, ai, gm] = True
        matched[ti, ai, dm] = g_nonzero_id[gm]
        matched_ig[ti, ai, dm] = g_ignore[ai, gm]
    return matched, matched_ig

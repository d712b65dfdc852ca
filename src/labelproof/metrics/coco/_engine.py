"""The evaluation proper: select, group, rank, pair, match, accumulate.

Works on the concatenated columns of ``_load``; follows ``COCOeval.evaluate`` +
``accumulate`` step for step, with every per-object Python loop replaced by array code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from labelproof.metrics.coco._accumulate import accumulate
from labelproof.metrics.coco._columns import F64, I64
from labelproof.metrics.coco._load import DtBatch, GtBatch
from labelproof.metrics.coco._matching import greedy_match
from labelproof.metrics.coco._similarity import (
    bbox_iou,
    empty_pairs,
    oks,
    pairs_by_group,
    segm_pairs,
)
from labelproof.metrics.coco.params import CocoParams


@dataclass(frozen=True)
class EngineOutput:
    """Precision (T, R, K, A, M), recall (T, K, A, M), and what was evaluated."""

    precision: F64
    recall: F64
    img_ids: I64
    cat_ids: I64
    n_gt: int
    n_dt: int


def _index_in(values: I64, sorted_ids: I64) -> tuple[np.ndarray, I64]:
    """(mask of values present in ``sorted_ids``, their positions)."""
    if len(sorted_ids) == 0:
        return np.zeros(len(values), bool), np.zeros(len(values), np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[pos] == values, pos.astype(np.int64)


def run(
    gt: GtBatch, dt: DtBatch, p: CocoParams, stage: Callable[[str], None] | None = None
) -> EngineOutput:
    """Evaluate ``dt`` against ``gt`` with parameters ``p``."""
    say = stage or (lambda _s: None)
    img_ids = np.unique(gt.img_ids) if p.img_ids is None else np.asarray(p.img_ids, np.int64)
    cat_ids = np.unique(gt.cat_ids) if p.cat_ids is None else np.asarray(p.cat_ids, np.int64)
    k_n = len(cat_ids)
    thrs = p.iou_thrs_array()
    assert p.max_dets is not None and p.area_rng is not None
    max_last = p.max_dets[-1]
    area_rng = np.asarray(p.area_rng, dtype=np.float64)

    # select ground truths and detections of the evaluated images and categories
    g_in_img, g_img = _index_in(gt.ann_img, img_ids)
    g_in_cat, g_cat = _index_in(gt.ann_cat, cat_ids)
    gsel = np.flatnonzero(g_in_img & g_in_cat)
    d_in_img, d_img = _index_in(dt.img, img_ids)
    d_in_cat, d_cat = _index_in(dt.cat, cat_ids)
    dsel = np.flatnonzero(d_in_img & d_in_cat)
    g_img, g_cat, d_img, d_cat = g_img[gsel], g_cat[gsel], d_img[dsel], d_cat[dsel]
    g_group = g_img * k_n + g_cat if p.use_cats else g_img.copy()
    d_group = d_img * k_n + d_cat if p.use_cats else d_img.copy()

    # ground truths: by group, then category order, then file order
    go = np.lexsort((g_cat, g_group))
    gsrc = gsel[go]
    g_group, g_img, g_cat = g_group[go], g_img[go], g_cat[go]
    g_area = gt.area[gsrc]
    g_crowd = gt.crowd[gsrc]
    g_base_ig = g_crowd.copy()
    if p.iou_type == "keypoints":
        assert gt.num_keypoints is not None
        g_base_ig |= gt.num_keypoints[gsrc] == 0
    g_ignore = np.stack([g_base_ig | (g_area < lo) | (g_area > hi) for lo, hi in area_rng])

    # detections: by group, descending score (stable: category order, then file order)
    say("ranking detections")
    d_score_all = dt.score[dsel]
    do = np.lexsort((d_cat, -d_score_all, d_group))
    d_group = d_group[do]
    starts = np.flatnonzero(np.r_[True, d_group[1:] != d_group[:-1]]) if len(do) else do
    rank = np.arange(len(do)) - np.repeat(starts, np.diff(np.r_[starts, len(do)]))
    keep = rank < max_last
    dsrc = dsel[do][keep]
    d_group, d_rank = d_group[keep], rank[keep]
    d_img, d_cat = d_img[do][keep], d_cat[do][keep]
    d_score = d_score_all[do][keep]
    d_area = dt.area[dsrc]
    n_det = len(dsrc)

    say("computing similarities")
    keep_from = float(np.minimum(thrs, 1 - 1e-10).min())
    if p.iou_type == "bbox":
        assert dt.bbox is not None and gt.bbox is not None
        db, gb = dt.bbox[dsrc], gt.bbox[gsrc]

        def sim(i: I64, j: I64) -> F64:
            return bbox_iou(db[i], gb[j], g_crowd[j])

        pairs = pairs_by_group(d_group, g_group, sim, keep_from)
    elif p.iou_type == "keypoints":
        assert dt.keypoints is not None and gt.keypoints is not None and gt.bbox is not None
        dk, gk, gb = dt.keypoints[dsrc], gt.keypoints[gsrc], gt.bbox[gsrc]
        sig = np.asarray(p.kpt_sigmas, dtype=np.float64)

        def sim(i: I64, j: I64) -> F64:
            return oks(dk[i], gk[j], gb[j], g_area[j], sig)

        # pycocotools computes OKS per (image, category) even when use_cats is off, under
        # the category key -1 that holds nothing: nothing can match then.
        pairs = pairs_by_group(d_group, g_group, sim, keep_from) if p.use_cats else empty_pairs()
    else:
        assert dt.rles is not None and gt.rles is not None
        pairs = segm_pairs(
            d_img,
            d_group,
            [dt.rles[i] for i in dsrc],
            g_img,
            g_group,
            [gt.rles[i] for i in gsrc],
            g_crowd,
            keep_from,
        )

    say("matching")
    g_nonzero = gt.ann_ids[gsrc] != 0
    matched, matched_ig = greedy_match(*pairs, d_rank, n_det, g_ignore, g_crowd, g_nonzero, thrs)
    say("accumulating")
    d_out = np.stack([(d_area < lo) | (d_area > hi) for lo, hi in area_rng])
    kslot_g = g_cat if p.use_cats else np.zeros(len(g_cat), np.int64)
    kslot_d = d_cat if p.use_cats else np.zeros(n_det, np.int64)
    k_slots = k_n if p.use_cats else 1
    npig = np.stack(
        [np.bincount(kslot_g[~ig], minlength=k_slots) for ig in g_ignore], axis=1
    ).astype(np.int64)
    precision, recall = accumulate(
        kslot_d,
        d_img,
        d_score,
        d_rank,
        d_out,
        matched,
        matched_ig,
        npig,
        np.asarray(p.rec_thrs, dtype=np.float64),
        p.max_dets,
    )
    return EngineOutput(
        precision=precision,
        recall=recall,
        img_ids=img_ids,
        cat_ids=cat_ids,
        n_gt=len(gsrc),
        n_dt=len(dsel),
    )

"""Exact intersection area of polygon pairs (holes allowed), vectorised across pairs.

Method (Green's theorem). For polygons A and B whose rings are oriented shell positive,
holes negative, the boundary of A ∩ B is the part of ∂A inside B plus the part of ∂B
inside A (in general position), so

    area(A ∩ B) = 1/2 [ Σ_e∈∂A ∫_{e ∩ B} (x dy - y dx) + Σ_f∈∂B ∫_{f ∩ A} (x dy - y dx) ].

On an edge p(t) = P + t d, t in [0, 1], the integral over [t0, t1] is (t1 - t0) cross(P, d),
so an edge contributes cross(P, d) times the share of it that lies inside the other
polygon. That share is w(P) + Σ_k σ_k (1 - t_k), where w(P) is the winding number of the
edge's start with respect to the other polygon and σ_k = ±1 marks each crossing at t_k as
entering or leaving: no sorting of crossings is needed. Winding numbers propagate along
the rings (w(next vertex) = w(vertex) + Σ σ_k), so only the first vertex of each
polygon needs a ray cast.

All edge-pair tests are dense numpy operations on (pairs, edges of A, vertices of B)
arrays, chunked to stay in cache. Crossings are decided by the *signs* of vertex-to-edge
orientation values, each computed once and shared by the two edges meeting at a vertex,
so a crossing near a vertex is never counted twice or missed. Pairs where any orientation
value is within a relative 1e-10 of zero (a vertex on or next to the other polygon's
edge line: shared vertices, collinear edges, identical polygons) are flagged as
*degenerate*; the caller recomputes them with shapely.

Layout of a packed polygon set (see :func:`pack`): every ring closed (first vertex
repeated), rings concatenated, then padding with distinct far-away points; ``real[e]``
tells whether edge e (vertex e to vertex e + 1) is a ring edge (not a join between two
rings, not padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

_REL_TOL = 1e-10
_CHUNK_ELEMENTS = 1 << 16  # about 0.5 MiB per float64 edge-pair array: stays in cache
_FAR = 1e7  # padding distance, relative to coordinates centred on each pair


@dataclass(frozen=True)
class PackedPolygons:
    """Polygons in flat array form.

    Attributes:
        coords: (V, 2) float64 vertices in px of every polygon: each ring closed (first
            vertex repeated), the shell first (positive) then the holes (negative).
        offsets: (P + 1,) polygon i owns ``coords[offsets[i]:offsets[i + 1]]``.
        edge_real: (V,) whether vertex j to vertex j + 1 is an edge of a ring (False on
            the closing vertex of each ring).
        area: (P,) area in px^2 (shell minus holes).
        lo, hi: (P, 2) bounds of each polygon in px.
    """

    coords: F64
    offsets: I64
    edge_real: B
    area: F64
    lo: F64
    hi: F64

    @property
    def length(self) -> I64:
        """(P,) number of stored vertices per polygon."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)


def pack_rings(coords: F64, ring_offsets: I64, polygon_offsets: I64) -> PackedPolygons:
    """Pack polygons from flat arrays (the layout of ``shapely.to_ragged_array``).

    Args:
        coords: (V, 2) vertices in px, every ring closed (first vertex repeated at its
            end), shells positive and holes negative.
        ring_offsets: (R + 1,) ring r is ``coords[ring_offsets[r]:ring_offsets[r + 1]]``.
        polygon_offsets: (P + 1,) polygon i owns rings ``polygon_offsets[i]`` to
            ``polygon_offsets[i + 1] - 1``, its shell first.
    """
    coords = np.ascontiguousarray(coords, dtype=np.float64).reshape(-1, 2)
    ring_offsets = np.asarray(ring_offsets, dtype=np.int64)
    polygon_offsets = np.asarray(polygon_offsets, dtype=np.int64)
    v = coords.shape[0]
    edge_real = np.ones(v, dtype=bool)
    edge_real[ring_offsets[1:] - 1] = False
    offsets = ring_offsets[polygon_offsets]
    n = offsets.shape[0] - 1
    # ring areas by the shoelace formula on closed rings (relative to each ring's start)
    ring_id = np.repeat(np.arange(ring_offsets.shape[0] - 1), np.diff(ring_offsets))
    rel = coords - coords[ring_offsets[:-1]][ring_id]
    terms = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    terms = np.where(edge_real[:-1], terms, 0.0)
    # per-polygon sums (a global cumulative sum would lose digits to cancellation)
    terms = np.concatenate([terms, [0.0]])
    area = 0.5 * np.add.reduceat(terms, offsets[:-1]) if n else np.zeros(0)
    if n:
        shell_end = ring_offsets[polygon_offsets[:-1] + 1]
        bounds_at = np.stack([offsets[:-1], shell_end], axis=1).ravel()
        padded = np.concatenate([coords, coords[:1]])
        lo = np.minimum.reduceat(padded, bounds_at, axis=0)[::2]
        hi = np.maximum.reduceat(padded, bounds_at, axis=0)[::2]
    else:
        lo = np.zeros((0, 2))
        hi = np.zeros((0, 2))
    return PackedPolygons(coords, offsets, edge_real, np.asarray(area, np.float64), lo, hi)


def pack(polygons: Sequence[Sequence[F64]]) -> PackedPolygons:
    """Pack polygons given as lists of (n, 2) rings (shell positive first, holes negative,
    closing vertex not repeated)."""
    rings = [r for poly in polygons for r in poly]
    sizes = np.array([r.shape[0] + 1 for r in rings], dtype=np.int64)
    ring_offsets = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(sizes, out=ring_offsets[1:])
    polygon_offsets = np.zeros(len(polygons) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in polygons], out=polygon_offsets[1:])
    if rings:
        coords = np.concatenate([np.concatenate([r, r[:1]]) for r in rings])
    else:
        coords = np.zeros((0, 2), dtype=np.float64)
    return pack_rings(coords, ring_offsets, polygon_offsets)


def _pad_block(
    polys: PackedPolygons, idx: I64, width: int, origin: F64, far_sign: float
) -> tuple[F64, B]:
    """Coordinates (C, width, 2) relative to ``origin`` (C, 2) and real edges (C, width - 1).

    Rows are filled with a ragged gather on complex numbers (one x + iy per vertex), which
    numpy does much faster than on (V, 2) rows.
    """
    c = idx.shape[0]
    # Distinct far points on a parabola, so padding edges have length and never align.
    k = np.arange(width, dtype=np.float64)
    pad = far_sign * (_FAR + 7.0 * k) + 1j * (_FAR + 3.0 * k * k)
    z = np.empty((c, width), dtype=np.complex128)
    z[:] = pad
    real_edge = np.zeros(c * width, dtype=bool)
    starts = polys.offsets[idx]
    lengths = polys.offsets[idx + 1] - starts
    total = int(lengths.sum())
    first = np.cumsum(lengths) - lengths
    ramp = np.arange(total)
    src = ramp + np.repeat(starts - first, lengths)
    dest = ramp + np.repeat(np.arange(c) * width - first, lengths)
    coords = polys.coords.view(np.complex128).reshape(-1)
    z.reshape(-1)[dest] = coords[src]
    z -= origin.view(np.complex128)
    real_edge[dest] = polys.edge_real[src]
    xy = z.view(np.float64).reshape(c, width, 2)
    return xy, real_edge.reshape(c, width)[:, :-1]


def _block(pa: F64, ea: B, pb: F64, eb: B, tol: F64) -> tuple[F64, B]:
    """Intersection areas (C,) and degenerate flags (C,) of one block of pairs.

    ``pa`` (C, LA, 2), ``ea`` (C, LA - 1) real edges; the same for B; ``tol`` (C,) the
    orientation tolerance in px^2.
    """
    c, la, _ = pa.shape
    lb = pb.shape[1]
    ax, ay = pa[:, :, 0], pa[:, :, 1]
    bx, by = pb[:, :, 0], pb[:, :, 1]
    dax, day = np.diff(ax, axis=1), np.diff(ay, axis=1)  # (C, LA - 1)
    dbx, dby = np.diff(bx, axis=1), np.diff(by, axis=1)  # (C, LB - 1)

    # side1[c, e, v] = cross(dA_e, B_v - A_e): > 0 when B's vertex v is left of A's edge e.
    side1 = by[:, None, :] - ay[:, :-1, None]
    side1 *= dax[:, :, None]
    tmp = bx[:, None, :] - ax[:, :-1, None]
    tmp *= day[:, :, None]
    side1 -= tmp
    # side2[c, u, f] = cross(dB_f, A_u - B_f): > 0 when A's vertex u is left of B's edge f.
    side2 = ay[:, :, None] - by[:, None, :-1]
    side2 *= dbx[:, None, :]
    tmp2 = ax[:, :, None] - bx[:, None, :-1]
    tmp2 *= dby[:, None, :]
    side2 -= tmp2

    tol3 = tol[:, None, None]
    # Padding vertices are far away and padding edges never align with a vertex, so the
    # test needs no mask (a rare false alarm only sends a pair to the fallback).
    near1 = np.abs(side1, out=tmp) < tol3
    near2 = np.abs(side2, out=tmp2) < tol3
    degenerate = near1.any(axis=(1, 2)) | near2.any(axis=(1, 2))

    pos1 = side1 > 0.0
    pos2 = side2 > 0.0
    crossing = pos1[:, :, :-1] ^ pos1[:, :, 1:]  # B's edge f straddles A's edge line e
    crossing &= pos2[:, :-1, :] ^ pos2[:, 1:, :]  # A's edge e straddles B's edge line f
    ci, ce, cf = np.nonzero(crossing)

    s2a = side2[ci, ce, cf]
    s2b = side2[ci, ce + 1, cf]
    s1a = side1[ci, ce, cf]
    s1b = side1[ci, ce, cf + 1]
    sig_a = np.where(s2b > 0.0, 1.0, -1.0)  # A's edge enters B (B's interior is on the left)
    sig_b = np.where(s1b > 0.0, 1.0, -1.0)  # B's edge enters A
    t_a = s2a / (s2a - s2b)
    t_b = s1a / (s1a - s1b)

    # Winding of A's first vertex with respect to B (ray cast toward +x, Sunday's rule).
    py = ay[:, :1]
    up = (by[:, :-1] <= py) & (by[:, 1:] > py) & (side2[:, 0, :] > 0.0)
    down = (by[:, :-1] > py) & (by[:, 1:] <= py) & (side2[:, 0, :] < 0.0)
    w0a = ((up & eb).sum(axis=1) - (down & eb).sum(axis=1)).astype(np.float64)
    qy = by[:, :1]
    up = (ay[:, :-1] <= qy) & (ay[:, 1:] > qy) & (side1[:, :, 0] > 0.0)
    down = (ay[:, :-1] > qy) & (ay[:, 1:] <= qy) & (side1[:, :, 0] < 0.0)
    w0b = ((up & ea).sum(axis=1) - (down & ea).sum(axis=1)).astype(np.float64)

    contrib_a = _edge_shares(c, la - 1, ci, ce, sig_a, t_a, eb[ci, cf], w0a, ax, ay, ea)
    contrib_b = _edge_shares(c, lb - 1, ci, cf, sig_b, t_b, ea[ci, ce], w0b, bx, by, eb)
    return 0.5 * (contrib_a + contrib_b), np.asarray(degenerate, dtype=bool)


def _edge_shares(
    c: int,
    n_edges: int,
    ci: I64,
    edge: I64,
    sig: F64,
    t: F64,
    other_real: B,
    w0: F64,
    x: F64,
    y: F64,
    real: B,
) -> F64:
    """Σ over real edges of cross(P, d) x (share of the edge inside the other polygon)."""
    flat = ci[other_real] * n_edges + edge[other_real]
    s = sig[other_real]
    size = c * n_edges
    steps = np.bincount(flat, weights=s, minlength=size).reshape(c, n_edges)
    partial = np.bincount(flat, weights=s * (1.0 - t[other_real]), minlength=size).reshape(
        c, n_edges
    )
    # exclusive cumulative sum: the winding number at each edge's start
    winding: F64 = np.cumsum(steps, axis=1) - steps + w0[:, None]
    share = winding + partial
    cross = x[:, :-1] * y[:, 1:] - y[:, :-1] * x[:, 1:]
    cross = np.asarray(cross * share, dtype=np.float64)
    cross[~real] = 0.0
    return np.asarray(cross.sum(axis=1), dtype=np.float64)


def intersection_area_pairs(
    a: PackedPolygons, ia: I64, b: PackedPolygons, ib: I64
) -> tuple[F64, B]:
    """Exact intersection areas of pairs (a[ia[k]], b[ib[k]]).

    Args:
        a, b: packed polygon sets.
        ia, ib: (K,) indices of the pairs.

    Returns:
        (area (K,) in px^2, degenerate (K,)): areas of degenerate pairs are not reliable
        and must be recomputed (see the module docstring).
    """
    k = ia.shape[0]
    out = np.zeros(k, dtype=np.float64)
    degenerate = np.zeros(k, dtype=bool)
    if k == 0:
        return out, degenerate
    la = a.length[ia]
    lb = b.length[ib]
    # Group pairs of similar sizes so that little padding is computed.
    order = np.lexsort((lb, (la + 7) // 8))
    la_sorted, lb_sorted = la[order], lb[order]
    start = 0
    while start < k:
        # the longest run from ``start`` whose padded size fits the element budget
        cap = min(k, start + max(1, _CHUNK_ELEMENTS // int(la_sorted[start] * lb_sorted[start])))
        wa = np.maximum.accumulate(la_sorted[start:cap])
        wb = np.maximum.accumulate(lb_sorted[start:cap])
        fits = np.arange(1, cap - start + 1) * wa * wb <= _CHUNK_ELEMENTS
        count = max(1, int(np.argmin(fits)) if not fits.all() else cap - start)
        end = start + count
        sel = order[start:end]
        _run_block(
            a, ia[sel], b, ib[sel], int(wa[count - 1]), int(wb[count - 1]), out, degenerate, sel
        )
        start = end
    return out, degenerate


def _run_block(
    a: PackedPolygons,
    ia: I64,
    b: PackedPolygons,
    ib: I64,
    width_a: int,
    width_b: int,
    out: F64,
    degenerate: B,
    sel: I64,
) -> None:
    origin = 0.5 * (np.minimum(a.lo[ia], b.lo[ib]) + np.maximum(a.hi[ia], b.hi[ib]))
    span = np.maximum(a.hi[ia], b.hi[ib]) - np.minimum(a.lo[ia], b.lo[ib])
    scale = span.max(axis=1)
    tol = _REL_TOL * scale * scale
    pa, ea = _pad_block(a, ia, width_a, origin, 1.0)
    pb, eb = _pad_block(b, ib, width_b, origin, -1.0)
    area, flag = _block(pa, ea, pb, eb, tol)
    out[sel] = area
    degenerate[sel] = flag

/**
 * Small polygon booleans for the editing tools, in image px (x right, y down), results
 * rounded to 0.01 px. Deliberately limited to the simple cases an annotator needs:
 *
 * - `splitPolygon`: cut one polygon with a segment that enters and leaves its outline
 *   exactly once (both ends outside); holes go to the piece that holds them, a cut through
 *   a hole is refused.
 * - `unionPolygons`: merge two overlapping polygons without holes (Greiner-Hormann
 *   traversal); the union may enclose holes, which are kept. Touching or collinear edges
 *   (two pieces of a split) are handled by growing the second polygon by a millionth about
 *   its centroid and tracing again; the result is rounded back to 0.01 px.
 *
 * Anything else returns `{ error }` with a sentence for the annotator.
 */
import { distinctCount, pointInRing, polylineDistance, ringIsSimple, round2 } from "./geometry";
import type { PolygonGeom, Pt } from "./types";

export type OpResult<T> = { ok: T; error?: undefined } | { ok?: undefined; error: string };

const EPS = 1e-9;

/** Signed area (shoelace), positive for clockwise rings on screen (y down). */
export function ringArea(r: Pt[]): number {
  let s = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) s += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return s / 2;
}

/** Area of a polygon with holes (px²). */
export function polygonArea(g: PolygonGeom): number {
  return Math.abs(ringArea(g.points)) - (g.holes ?? []).reduce((s, h) => s + Math.abs(ringArea(h)), 0);
}

/** Round to 0.01 px and drop repeated points (also the closing repeat). */
function clean(r: Pt[]): Pt[] {
  const out: Pt[] = [];
  for (const p of r) {
    const q: Pt = [round2(p[0]), round2(p[1])];
    const l = out[out.length - 1];
    if (!l || l[0] !== q[0] || l[1] !== q[1]) out.push(q);
  }
  while (out.length > 1 && out[0][0] === out[out.length - 1][0] && out[0][1] === out[out.length - 1][1]) out.pop();
  return out;
}

/** Where segments p1-p2 and q1-q2 cross: parameters (t on p, u on q), or null. */
function crossing(p1: Pt, p2: Pt, q1: Pt, q2: Pt): { t: number; u: number; collinear: boolean } | null {
  const rx = p2[0] - p1[0];
  const ry = p2[1] - p1[1];
  const sx = q2[0] - q1[0];
  const sy = q2[1] - q1[1];
  const den = rx * sy - ry * sx;
  const qpx = q1[0] - p1[0];
  const qpy = q1[1] - p1[1];
  const scale = Math.hypot(rx, ry) * Math.hypot(sx, sy);
  if (Math.abs(den) <= EPS * scale) {
    // parallel: collinear and overlapping is degenerate
    if (Math.abs(qpx * ry - qpy * rx) > EPS * Math.hypot(rx, ry) * Math.max(1, Math.hypot(qpx, qpy))) return null;
    const len2 = rx * rx + ry * ry;
    const a = (qpx * rx + qpy * ry) / len2;
    const b = ((q2[0] - p1[0]) * rx + (q2[1] - p1[1]) * ry) / len2;
    if (Math.max(a, b) < 0 || Math.min(a, b) > 1) return null;
    return { t: 0, u: 0, collinear: true };
  }
  const t = (qpx * sy - qpy * sx) / den;
  const u = (qpx * ry - qpy * rx) / den;
  if (t < -EPS || t > 1 + EPS || u < -EPS || u > 1 + EPS) return null;
  return { t, u, collinear: false };
}

// ---- split -------------------------------------------------------------------------------

/**
 * Cut a polygon along the segment a-b. The segment must cross the outline exactly twice
 * with both ends outside the polygon, and miss every hole.
 * Returns the two pieces, the larger first.
 */
export function splitPolygon(g: PolygonGeom, a: Pt, b: Pt): OpResult<[PolygonGeom, PolygonGeom]> {
  const ring = g.points;
  const n = ring.length;
  if (pointInRing(a[0], a[1], ring) || pointInRing(b[0], b[1], ring))
    return { error: "start and end the cut outside the polygon" };
  const hits: { edge: number; u: number; t: number; p: Pt }[] = [];
  for (let i = 0; i < n; i++) {
    const c = crossing(a, b, ring[i], ring[(i + 1) % n]);
    if (!c) continue;
    if (c.collinear) return { error: "the cut runs along an edge; draw it across the polygon" };
    if (c.u >= 1 - EPS) continue; // the next edge's start: counted there
    hits.push({ edge: i, u: c.u, t: c.t, p: [a[0] + c.t * (b[0] - a[0]), a[1] + c.t * (b[1] - a[1])] });
  }
  if (hits.length !== 2) return { error: `the cut must cross the outline exactly twice (it crosses ${hits.length} times)` };
  hits.sort((p, q) => p.edge - q.edge || p.u - q.u);
  const [h0, h1] = hits;
  const chord: [Pt, Pt] = [h0.p, h1.p];
  for (const hole of g.holes ?? []) {
    for (let i = 0; i < hole.length; i++) {
      if (crossing(chord[0], chord[1], hole[i], hole[(i + 1) % hole.length])) return { error: "the cut crosses a hole; cut beside it" };
    }
  }
  // piece 1: h0 -> vertices (h0.edge+1 .. h1.edge) -> h1 ; piece 2: h1 -> (h1.edge+1 .. h0.edge) -> h0
  const arc = (from: number, to: number): Pt[] => {
    const out: Pt[] = [];
    for (let k = (from + 1) % n; ; k = (k + 1) % n) {
      out.push(ring[k]);
      if (k === to) break;
    }
    return out;
  };
  const p1 = clean([h0.p, ...(h0.edge === h1.edge ? [] : arc(h0.edge, h1.edge)), h1.p]);
  const p2 = clean([h1.p, ...arc(h1.edge, h0.edge), h0.p]);
  if (distinctCount(p1) < 3 || distinctCount(p2) < 3) return { error: "a piece would have less than 3 points" };
  if (!ringIsSimple(p1) || !ringIsSimple(p2)) return { error: "a piece would cross itself; cut elsewhere" };
  const g1: PolygonGeom = { points: p1, holes: [] };
  const g2: PolygonGeom = { points: p2, holes: [] };
  for (const hole of g.holes ?? []) (pointInRing(hole[0][0], hole[0][1], p1) ? g1 : g2).holes.push(hole);
  return polygonArea(g1) >= polygonArea(g2) ? { ok: [g1, g2] } : { ok: [g2, g1] };
}

// ---- union (Greiner-Hormann) ---------------------------------------------------------------

interface Node {
  p: Pt;
  next: Node;
  prev: Node;
  inter: boolean;
  entry: boolean;
  visited: boolean;
  alpha: number;
  neighbor: Node | null;
}

function makeList(r: Pt[]): Node[] {
  const nodes = r.map((p) => ({ p, inter: false, entry: false, visited: false, alpha: 0, neighbor: null }) as unknown as Node);
  nodes.forEach((nd, i) => {
    nd.next = nodes[(i + 1) % nodes.length];
    nd.prev = nodes[(i - 1 + nodes.length) % nodes.length];
  });
  return nodes;
}

/** Insert an intersection node on the edge starting at `from`, ordered by alpha. */
function insertAt(from: Node, nd: Node): void {
  let cur = from;
  while (cur.next.inter && cur.next.alpha < nd.alpha) cur = cur.next;
  nd.next = cur.next;
  nd.prev = cur;
  cur.next.prev = nd;
  cur.next = nd;
}

type Traced = { rings: Pt[][] } | { degenerate: true } | { disjoint: true };

function traceUnion(A: Pt[], B: Pt[]): Traced {
  const la = makeList(A);
  const lb = makeList(B);
  let count = 0;
  for (let i = 0; i < A.length; i++) {
    for (let j = 0; j < B.length; j++) {
      const c = crossing(A[i], A[(i + 1) % A.length], B[j], B[(j + 1) % B.length]);
      if (!c) continue;
      if (c.collinear || c.t < EPS || c.t > 1 - EPS || c.u < EPS || c.u > 1 - EPS) return { degenerate: true };
      const p: Pt = [A[i][0] + c.t * (A[(i + 1) % A.length][0] - A[i][0]), A[i][1] + c.t * (A[(i + 1) % A.length][1] - A[i][1])];
      const na = { p, inter: true, entry: false, visited: false, alpha: c.t, neighbor: null } as unknown as Node;
      const nb = { p, inter: true, entry: false, visited: false, alpha: c.u, neighbor: na } as unknown as Node;
      na.neighbor = nb;
      insertAt(la[i], na);
      insertAt(lb[j], nb);
      count++;
    }
  }
  if (count === 0) return { disjoint: true };
  // Entry flags, inverted for a union: an intersection where we leave the other polygon
  // is where the union's outline continues along this one.
  for (const [list, other] of [
    [la, B],
    [lb, A],
  ] as const) {
    const first = list[0].p;
    if (polylineDistance(first[0], first[1], other, true) < 1e-7) return { degenerate: true };
    let inside = pointInRing(first[0], first[1], other);
    let cur = list[0];
    do {
      if (cur.inter) {
        cur.entry = inside; // union: inverted
        inside = !inside;
      }
      cur = cur.next;
    } while (cur !== list[0]);
  }
  const rings: Pt[][] = [];
  for (;;) {
    let start: Node | null = null;
    let cur = la[0];
    do {
      if (cur.inter && !cur.visited) {
        start = cur;
        break;
      }
      cur = cur.next;
    } while (cur !== la[0]);
    if (!start) break;
    const ring: Pt[] = [];
    cur = start;
    let guard = 0;
    do {
      cur.visited = true;
      if (cur.neighbor) cur.neighbor.visited = true;
      ring.push(cur.p);
      const forward = cur.entry;
      do {
        cur = forward ? cur.next : cur.prev;
        if (!cur.inter) ring.push(cur.p);
        if (++guard > 100000) return { degenerate: true };
      } while (!cur.inter);
      cur = cur.neighbor!;
    } while (!cur.visited);
    rings.push(ring);
  }
  return { rings };
}

function grow(r: Pt[], k: number): Pt[] {
  const cx = r.reduce((s, p) => s + p[0], 0) / r.length;
  const cy = r.reduce((s, p) => s + p[1], 0) / r.length;
  return r.map((p) => [cx + (p[0] - cx) * k, cy + (p[1] - cy) * k] as Pt);
}

/** The union of two polygons without holes, which must overlap (or one hold the other). */
export function unionPolygons(a: PolygonGeom, b: PolygonGeom): OpResult<PolygonGeom> {
  if ((a.holes?.length ?? 0) > 0 || (b.holes?.length ?? 0) > 0)
    return { error: "merge works on polygons without holes" };
  let traced: Traced = { degenerate: true };
  for (const k of [1, 1 + 1e-6, 1 + 3e-6]) {
    traced = traceUnion(a.points, k === 1 ? b.points : grow(b.points, k));
    if (!("degenerate" in traced)) break;
  }
  if ("degenerate" in traced) return { error: "the outlines touch in a way merge cannot resolve; move a point slightly" };
  if ("disjoint" in traced) {
    const [pa, pb] = [a.points[0], b.points[0]];
    if (pointInRing(pb[0], pb[1], a.points)) return { ok: { points: a.points, holes: [] } };
    if (pointInRing(pa[0], pa[1], b.points)) return { ok: { points: b.points, holes: [] } };
    return { error: "the polygons do not overlap" };
  }
  const rings = traced.rings.map(clean).filter((r) => distinctCount(r) >= 3);
  if (!rings.length) return { error: "merge produced nothing" };
  rings.sort((p, q) => Math.abs(ringArea(q)) - Math.abs(ringArea(p)));
  const [outer, ...holes] = rings;
  if (!ringIsSimple(outer) || holes.some((h) => !ringIsSimple(h) || !pointInRing(h[0][0], h[0][1], outer)))
    return { error: "the merged outline would cross itself" };
  return { ok: { points: outer, holes } };
}

/** Is `ring` a valid hole of polygon `g`: simple, inside the shell, clear of other holes? */
export function holeProblem(g: PolygonGeom, ring: Pt[]): string | null {
  if (distinctCount(ring) < 3) return "a hole needs 3 distinct points";
  if (!ringIsSimple(ring)) return "the hole crosses itself";
  const shell = g.points;
  if (!ring.every((p) => pointInRing(p[0], p[1], shell))) return "a hole must lie inside its polygon";
  const edgesCross = (r: Pt[], s: Pt[]) =>
    r.some((p, i) => s.some((q, j) => crossing(p, r[(i + 1) % r.length], q, s[(j + 1) % s.length]) !== null));
  if (edgesCross(ring, shell)) return "a hole must lie inside its polygon";
  for (const h of g.holes ?? []) {
    if (edgesCross(ring, h) || pointInRing(ring[0][0], ring[0][1], h) || pointInRing(h[0][0], h[0][1], ring))
      return "holes must not overlap";
  }
  return null;
}

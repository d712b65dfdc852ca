/** Geometry helpers in image pixel coordinates (x right, y down). */
import type { Annotation, BoxGeom, CuboidGeom, Pt, RotatedBoxGeom } from "./types";

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Corners of a rotated box (angle in degrees, clockwise on screen), TL, TR, BR, BL. */
export function rotatedCorners(g: RotatedBoxGeom): Pt[] {
  const a = (g.angle * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const hw = g.w / 2;
  const hh = g.h / 2;
  return [
    [-hw, -hh],
    [hw, -hh],
    [hw, hh],
    [-hw, hh],
  ].map(([x, y]) => [g.cx + x * c - y * s, g.cy + x * s + y * c] as Pt);
}

/** Map an angle in degrees to the canonical [-180, 180). */
export function canonicalAngle(deg: number): number {
  let a = ((deg + 180) % 360 + 360) % 360 - 180;
  if (a >= 180) a -= 360;
  return a;
}

export function boxCorners(g: BoxGeom): Pt[] {
  return [
    [g.x, g.y],
    [g.x + g.w, g.y],
    [g.x + g.w, g.y + g.h],
    [g.x, g.y + g.h],
  ];
}

/**
 * The 8 projected corners of a 2D-drawn cuboid from its front face rectangle and the
 * offset of the back face: corners 0-3 the bottom face (front-left, front-right,
 * back-right, back-left), 4-7 the top face above them, as the geometry contract orders.
 */
export function cuboidFromFaces(front: Rect, dx: number, dy: number): Pt[] {
  const { x0, y0, x1, y1 } = front;
  return [
    [x0, y1],
    [x1, y1],
    [x1 + dx, y1 + dy],
    [x0 + dx, y1 + dy],
    [x0, y0],
    [x1, y0],
    [x1 + dx, y0 + dy],
    [x0 + dx, y0 + dy],
  ];
}

/** The 12 edges of a cuboid projection, as index pairs into its 8 corners. */
export const CUBOID_EDGES: [number, number][] = [
  [0, 1], [1, 2], [2, 3], [3, 0],
  [4, 5], [5, 6], [6, 7], [7, 4],
  [0, 4], [1, 5], [2, 6], [3, 7],
];

export function pointsBounds(pts: ArrayLike<ArrayLike<number>>): Rect | null {
  if (pts.length === 0) return null;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    if (p[0] < x0) x0 = p[0];
    if (p[1] < y0) y0 = p[1];
    if (p[0] > x1) x1 = p[0];
    if (p[1] > y1) y1 = p[1];
  }
  return { x0, y0, x1, y1 };
}

/** The points that stand for a shape's outline (for bounds and hit tests), or null. */
export function shapePoints(a: Annotation): Pt[] | null {
  const g = a.geometry;
  switch (a.type) {
    case "box":
      return boxCorners(g);
    case "rotated_box":
      return rotatedCorners(g);
    case "polygon":
    case "polyline":
      return g.points;
    case "keypoints":
      return (g.points as number[][]).filter((p) => p[2] > 0).map((p) => [p[0], p[1]] as Pt);
    case "cuboid":
      return (g as CuboidGeom).projection ?? null;
    default:
      return null;
  }
}

/** Image-space bounds of an annotation; masks use their cached bitmap bounds. */
export function annotationBounds(a: Annotation, maskBounds?: (a: Annotation) => Rect | null): Rect | null {
  if (a.type === "mask") return maskBounds ? maskBounds(a) : null;
  const pts = shapePoints(a);
  return pts ? pointsBounds(pts) : null;
}

export function pointInRing(x: number, y: number, ring: ArrayLike<ArrayLike<number>>): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const xi = ring[i][0];
    const yi = ring[i][1];
    const xj = ring[j][0];
    const yj = ring[j][1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function segmentDistance(px: number, py: number, a: ArrayLike<number>, b: ArrayLike<number>): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - a[0]) * dx + (py - a[1]) * dy) / len2 : 0;
  t = clamp(t, 0, 1);
  const qx = a[0] + t * dx - px;
  const qy = a[1] + t * dy - py;
  return Math.sqrt(qx * qx + qy * qy);
}

export function polylineDistance(px: number, py: number, pts: ArrayLike<ArrayLike<number>>, closed: boolean): number {
  let best = Infinity;
  const n = pts.length;
  for (let i = 0; i < n - 1; i++) best = Math.min(best, segmentDistance(px, py, pts[i], pts[i + 1]));
  if (closed && n > 2) best = Math.min(best, segmentDistance(px, py, pts[n - 1], pts[0]));
  return best;
}

/** True when two segments p1-p2 and p3-p4 properly cross. */
function segmentsCross(p1: Pt, p2: Pt, p3: Pt, p4: Pt): boolean {
  const d = (a: Pt, b: Pt, c: Pt) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  const d1 = d(p3, p4, p1);
  const d2 = d(p3, p4, p2);
  const d3 = d(p1, p2, p3);
  const d4 = d(p1, p2, p4);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** A closed ring is simple when no two non-adjacent edges cross (O(n^2), fine for editing). */
export function ringIsSimple(ring: Pt[]): boolean {
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsCross(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n])) return false;
    }
  }
  return true;
}

export function distinctCount(pts: Pt[]): number {
  return new Set(pts.map((p) => `${p[0]},${p[1]}`)).size;
}

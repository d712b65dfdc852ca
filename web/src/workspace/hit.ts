/** Exact picking of the topmost visible, unlocked object under an image point. */
import type { Doc } from "./doc";
import { boxCorners, pointInRing, polylineDistance, rotatedCorners, segmentDistance } from "./geometry";
import type { MaskCache } from "./masks";
import type { Annotation, Pt, Skeleton } from "./types";

const CUBOID_FACES = [
  [0, 1, 2, 3],
  [4, 5, 6, 7],
  [0, 1, 5, 4],
  [1, 2, 6, 5],
  [2, 3, 7, 6],
  [3, 0, 4, 7],
];

function inOrNear(x: number, y: number, ring: Pt[], tol: number): boolean {
  return pointInRing(x, y, ring) || polylineDistance(x, y, ring, true) <= tol;
}

export function hits(a: Annotation, x: number, y: number, tol: number, masks: MaskCache, skeleton?: Skeleton): boolean {
  const g = a.geometry;
  switch (a.type) {
    case "box":
      return inOrNear(x, y, boxCorners(g), tol);
    case "rotated_box":
      return inOrNear(x, y, rotatedCorners(g), tol);
    case "polygon": {
      if (polylineDistance(x, y, g.points, true) <= tol) return true;
      if (!pointInRing(x, y, g.points)) return false;
      return !(g.holes ?? []).some((h: Pt[]) => pointInRing(x, y, h));
    }
    case "polyline":
      return polylineDistance(x, y, g.points, false) <= tol;
    case "keypoints": {
      const pts = g.points as number[][];
      if (pts.some((p) => p[2] > 0 && Math.hypot(p[0] - x, p[1] - y) <= tol * 1.5)) return true;
      return (skeleton?.edges ?? []).some(
        ([i, j]) => pts[i]?.[2] > 0 && pts[j]?.[2] > 0 && segmentDistance(x, y, pts[i], pts[j]) <= tol,
      );
    }
    case "cuboid": {
      const pr = g.projection as Pt[] | undefined;
      return !!pr && CUBOID_FACES.some((f) => inOrNear(x, y, f.map((i) => pr[i]), tol));
    }
    case "mask": {
      const e = masks.entry(a);
      const px = Math.floor(x);
      const py = Math.floor(y);
      return px >= 0 && py >= 0 && px < e.width && py < e.height && e.bitmap[py * e.width + px] === 1;
    }
    default:
      return false;
  }
}

export function pick(
  doc: Doc,
  order: Annotation[],
  x: number,
  y: number,
  tol: number,
  masks: MaskCache,
  skeleton: (label: string) => Skeleton | undefined,
): Annotation | null {
  const near = doc.index.query({ x0: x - tol, y0: y - tol, x1: x + tol, y1: y + tol });
  if (!near.size) return null;
  // The smallest object under the point wins (small objects inside big ones stay pickable);
  // among equals, the topmost.
  let best: Annotation | null = null;
  let bestArea = Infinity;
  for (let i = order.length - 1; i >= 0; i--) {
    const a = order[i];
    if (!near.has(a.id) || doc.hidden.has(a.id) || doc.locked.has(a.id)) continue;
    if (!hits(a, x, y, tol, masks, skeleton(a.label))) continue;
    const b = doc.index.bounds(a.id)!;
    const area = Math.max(1, (b.x1 - b.x0) * (b.y1 - b.y0));
    if (area < bestArea) {
      best = a;
      bestArea = area;
    }
  }
  return best;
}

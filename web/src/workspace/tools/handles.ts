/** Editable handles of each shape type and the geometry after dragging one. */
import {
  boxCorners,
  canonicalAngle,
  clamp,
  pointsBounds,
  rotatedCorners,
  round2,
  shapePoints,
} from "../geometry";
import type { Annotation, BoxGeom, Pt, RotatedBoxGeom } from "../types";
import type { View } from "../view";

/** Handle positions in image px; for rotated boxes index 4 is the rotation handle. */
export function handlesOf(a: Annotation, v: View): Pt[] {
  const g = a.geometry;
  switch (a.type) {
    case "box":
      return [
        [g.x, g.y],
        [g.x + g.w, g.y],
        [g.x + g.w, g.y + g.h],
        [g.x, g.y + g.h],
      ];
    case "rotated_box": {
      const c = rotatedCorners(g);
      const t = (g.angle * Math.PI) / 180;
      const d = g.h / 2 + 24 / v.scale;
      return [...c, [g.cx + d * Math.sin(t), g.cy - d * Math.cos(t)]];
    }
    case "polygon":
      return [...g.points, ...(g.holes ?? []).flat()];
    case "polyline":
      return g.points;
    case "keypoints":
      return (g.points as number[][]).map((p) => [p[0], p[1]] as Pt);
    case "cuboid":
      return g.projection ?? [];
    default:
      return [];
  }
}

/** Indexes of handles that can be grabbed (unplaced keypoints cannot). */
export function grabbable(a: Annotation, i: number): boolean {
  if (a.type === "keypoints") return a.geometry.points[i][2] > 0;
  return true;
}

function normBox(ax: number, ay: number, bx: number, by: number): BoxGeom {
  return {
    x: round2(Math.min(ax, bx)),
    y: round2(Math.min(ay, by)),
    w: round2(Math.abs(bx - ax)),
    h: round2(Math.abs(by - ay)),
  };
}

/** The geometry after moving handle `i` to the clamped image point `p`. */
export function dragHandle(a: Annotation, i: number, p: Pt): unknown {
  const g = a.geometry;
  switch (a.type) {
    case "box": {
      const f = boxCorners(g)[(i + 2) % 4];
      const b = normBox(f[0], f[1], p[0], p[1]);
      return b.w > 0 && b.h > 0 ? b : g;
    }
    case "rotated_box": {
      const rb = g as RotatedBoxGeom;
      if (i === 4) {
        const deg = (Math.atan2(p[1] - rb.cy, p[0] - rb.cx) * 180) / Math.PI + 90;
        return { ...rb, angle: round2(canonicalAngle(deg)) };
      }
      const f = rotatedCorners(rb)[(i + 2) % 4];
      const t = (rb.angle * Math.PI) / 180;
      const dx = p[0] - f[0];
      const dy = p[1] - f[1];
      const lx = dx * Math.cos(t) + dy * Math.sin(t);
      const ly = -dx * Math.sin(t) + dy * Math.cos(t);
      if (Math.abs(lx) < 1 || Math.abs(ly) < 1) return g;
      return {
        cx: round2((f[0] + p[0]) / 2),
        cy: round2((f[1] + p[1]) / 2),
        w: round2(Math.abs(lx)),
        h: round2(Math.abs(ly)),
        angle: rb.angle,
      };
    }
    case "polygon": {
      const n = g.points.length;
      if (i < n) return { ...g, points: g.points.map((q: Pt, k: number) => (k === i ? p : q)) };
      let k = i - n;
      const holes = (g.holes as Pt[][]).map((ring) => {
        const out = ring.map((q, j) => (j === k ? p : q));
        k -= ring.length;
        return out;
      });
      return { ...g, holes };
    }
    case "polyline":
      return { points: g.points.map((q: Pt, k: number) => (k === i ? p : q)) };
    case "keypoints":
      return { points: g.points.map((q: number[], k: number) => (k === i ? [p[0], p[1], q[2]] : q)) };
    case "cuboid":
      return { ...g, projection: g.projection.map((q: Pt, k: number) => (k === i ? p : q)) };
    default:
      return g;
  }
}

/** The geometry moved by (dx, dy) image px, limited so that it stays inside the image. */
export function translate(a: Annotation, dx: number, dy: number, w: number, h: number): unknown {
  const g = a.geometry;
  const pts = shapePoints(a);
  const b = pts ? pointsBounds(pts) : null;
  if (!b) return g;
  dx = clamp(dx, -b.x0, w - b.x1);
  dy = clamp(dy, -b.y0, h - b.y1);
  const mv = (q: Pt): Pt => [round2(q[0] + dx), round2(q[1] + dy)];
  switch (a.type) {
    case "box":
      return { ...g, x: round2(g.x + dx), y: round2(g.y + dy) };
    case "rotated_box":
      return { ...g, cx: round2(g.cx + dx), cy: round2(g.cy + dy) };
    case "polygon":
      return { points: g.points.map(mv), holes: (g.holes ?? []).map((r: Pt[]) => r.map(mv)) };
    case "polyline":
      return { points: g.points.map(mv) };
    case "keypoints":
      return {
        points: g.points.map((q: number[]) => (q[2] > 0 ? [...mv([q[0], q[1]]), q[2]] : q)),
      };
    case "cuboid":
      return { ...g, projection: g.projection.map(mv) };
    default:
      return g;
  }
}

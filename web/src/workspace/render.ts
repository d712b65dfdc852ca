/**
 * Drawing annotations on a 2D canvas in screen space (CSS px). Outlines are traced into
 * Path2D batches, one batch per run of same-coloured objects, so thousands of polygons
 * cost a handful of fill/stroke calls. Vertices closer than 0.75 px on screen are skipped
 * and objects under 3 px on screen are drawn as a dot (level of detail).
 */
import { CUBOID_EDGES, boxCorners, rotatedCorners } from "./geometry";
import type { MaskCache } from "./masks";
import type { Annotation, Pt, Skeleton } from "./types";
import type { View } from "./view";

const MIN_STEP = 0.75;

function traceRing(path: Path2D, pts: ArrayLike<ArrayLike<number>>, v: View, closed: boolean): void {
  const n = pts.length;
  if (n === 0) return;
  const s = v.scale;
  let lx = pts[0][0] * s + v.tx;
  let ly = pts[0][1] * s + v.ty;
  path.moveTo(lx, ly);
  for (let i = 1; i < n; i++) {
    const x = pts[i][0] * s + v.tx;
    const y = pts[i][1] * s + v.ty;
    if (i < n - 1 && Math.abs(x - lx) < MIN_STEP && Math.abs(y - ly) < MIN_STEP) continue;
    path.lineTo(x, y);
    lx = x;
    ly = y;
  }
  if (closed) path.closePath();
}

export interface Batch {
  fill: Path2D;
  stroke: Path2D;
  /** Outlines of model suggestions (source "model"), stroked dashed. */
  dashed: Path2D;
  dots: Path2D;
  hollow: Path2D;
}

export function newBatch(): Batch {
  return { fill: new Path2D(), stroke: new Path2D(), dashed: new Path2D(), dots: new Path2D(), hollow: new Path2D() };
}

/** Add one vector annotation's outline to a batch (masks and tags are not traced). */
export function traceAnnotation(b: Batch, a: Annotation, v: View, skeleton?: Skeleton): void {
  const g = a.geometry;
  const st = a.source === "model" ? b.dashed : b.stroke;
  switch (a.type) {
    case "box":
      traceRing(b.fill, boxCorners(g), v, true);
      traceRing(st, boxCorners(g), v, true);
      break;
    case "rotated_box": {
      const c = rotatedCorners(g);
      traceRing(b.fill, c, v, true);
      traceRing(st, c, v, true);
      // a tick on the top edge shows which way is "up" for the angle
      const mx = (c[0][0] + c[1][0]) / 2;
      const my = (c[0][1] + c[1][1]) / 2;
      const [sx, sy] = v.toScreen(mx, my);
      const [cx, cy] = v.toScreen(g.cx, g.cy);
      const len = Math.hypot(sx - cx, sy - cy) || 1;
      st.moveTo(sx, sy);
      st.lineTo(sx + ((sx - cx) / len) * 8, sy + ((sy - cy) / len) * 8);
      break;
    }
    case "polygon":
      traceRing(b.fill, g.points, v, true);
      for (const hole of g.holes ?? []) traceRing(b.fill, hole, v, true);
      traceRing(st, g.points, v, true);
      for (const hole of g.holes ?? []) traceRing(st, hole, v, true);
      break;
    case "polyline":
      traceRing(st, g.points, v, false);
      break;
    case "keypoints": {
      const pts = g.points as number[][];
      for (const [i, j] of skeleton?.edges ?? []) {
        const p = pts[i];
        const q = pts[j];
        if (!p || !q || p[2] === 0 || q[2] === 0) continue;
        traceRing(st, [p, q], v, false);
      }
      for (const p of pts) {
        if (p[2] === 0) continue;
        const [x, y] = v.toScreen(p[0], p[1]);
        const target = p[2] === 2 ? b.dots : b.hollow;
        target.moveTo(x + 3.5, y);
        target.arc(x, y, 3.5, 0, Math.PI * 2);
      }
      break;
    }
    case "cuboid": {
      const pr = g.projection as Pt[] | undefined;
      if (!pr) break;
      traceRing(b.fill, [pr[0], pr[1], pr[5], pr[4]], v, true);
      for (const [i, j] of CUBOID_EDGES) traceRing(st, [pr[i], pr[j]], v, false);
      break;
    }
    default:
      break;
  }
}

export function flushBatch(ctx: CanvasRenderingContext2D, b: Batch, color: string, fillAlpha: number, lineWidth = 1.5): void {
  ctx.globalAlpha = fillAlpha;
  ctx.fillStyle = color;
  ctx.fill(b.fill, "evenodd");
  ctx.globalAlpha = 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  ctx.stroke(b.stroke);
  ctx.setLineDash([6, 4]);
  ctx.stroke(b.dashed);
  ctx.setLineDash([]);
  ctx.fill(b.dots);
  ctx.lineWidth = 1.5;
  ctx.stroke(b.hollow);
}

/** Draw a decoded mask (its tinted canvas) under the view transform. */
export function drawMask(ctx: CanvasRenderingContext2D, a: Annotation, v: View, masks: MaskCache, color: string): void {
  const e = masks.get(a, color);
  if (!e.bounds || !e.canvas) return;
  const [x, y] = v.toScreen(e.bounds.x0, e.bounds.y0);
  ctx.imageSmoothingEnabled = v.scale < 1;
  ctx.drawImage(e.canvas, x, y, e.canvas.width * v.scale, e.canvas.height * v.scale);
}

export function drawHandles(ctx: CanvasRenderingContext2D, pts: Pt[], v: View, color: string, active = -1): void {
  for (let i = 0; i < pts.length; i++) {
    const [x, y] = v.toScreen(pts[i][0], pts[i][1]);
    const r = i === active ? 5 : 4;
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.rect(x - r, y - r, 2 * r, 2 * r);
    ctx.fill();
    ctx.stroke();
  }
}

/** A small confidence tag at the top-left corner of a model suggestion (screen px). */
export function drawConfidence(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, color: string): void {
  ctx.font = "600 10px system-ui, sans-serif";
  const w = ctx.measureText(text).width + 6;
  ctx.globalAlpha = 0.85;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(x, y, w, 13);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 2]);
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, 12);
  ctx.setLineDash([]);
  ctx.fillStyle = "#1d2330";
  ctx.fillText(text, x + 3, y + 10);
}

export function drawLabel(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, color: string): void {
  ctx.font = "600 11px system-ui, sans-serif";
  const w = ctx.measureText(text).width + 8;
  ctx.fillStyle = color;
  ctx.fillRect(x, y - 16, w, 16);
  ctx.fillStyle = "#ffffff";
  ctx.fillText(text, x + 4, y - 4);
}

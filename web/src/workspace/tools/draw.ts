/** Drawing tools for vector shapes: box, rotated box, polygon, polyline, cuboid. */
import { CUBOID_EDGES, cuboidFromFaces, distinctCount, pointInRing, ringIsSimple, round2, type Rect } from "../geometry";
import { holeProblem } from "../polyops";
import type { Annotation, PolygonGeom, Pt } from "../types";
import type { PointerInfo, Tool, ToolHost, ToolName } from "./host";

function strokePts(ctx: CanvasRenderingContext2D, host: ToolHost, pts: Pt[], closed: boolean): void {
  ctx.beginPath();
  pts.forEach((q, i) => {
    const [x, y] = host.view.toScreen(q[0], q[1]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  if (closed) ctx.closePath();
  ctx.stroke();
}

function draftStyle(ctx: CanvasRenderingContext2D, host: ToolHost): void {
  const color = host.color(host.currentClass()?.name ?? "");
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash([6, 4]);
}

/** Box and rotated box: press, drag to the opposite corner, release. */
export class RectTool implements Tool {
  readonly cursor = "crosshair";
  private a: Pt | null = null;
  private b: Pt | null = null;

  constructor(
    private readonly host: ToolHost,
    readonly name: "box" | "rotated_box",
  ) {}

  get busy(): boolean {
    return this.a !== null;
  }

  down(p: PointerInfo): boolean {
    this.a = this.host.clampPt(p.x, p.y);
    this.b = this.a;
    return true;
  }

  move(p: PointerInfo): void {
    if (!this.a) return;
    this.b = this.host.clampPt(p.x, p.y);
    this.host.redrawOverlay();
  }

  up(): void {
    const [a, b] = [this.a, this.b];
    this.a = this.b = null;
    this.host.redrawOverlay();
    if (!a || !b) return;
    const w = round2(Math.abs(b[0] - a[0]));
    const h = round2(Math.abs(b[1] - a[1]));
    if (w < 1 || h < 1) return;
    const x = Math.min(a[0], b[0]);
    const y = Math.min(a[1], b[1]);
    if (this.name === "box") this.host.create("box", { x, y, w, h });
    else this.host.create("rotated_box", { cx: round2(x + w / 2), cy: round2(y + h / 2), w, h, angle: 0 });
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    if (!this.a || !this.b) return;
    draftStyle(ctx, this.host);
    const [a, b] = [this.a, this.b];
    strokePts(ctx, this.host, [a, [b[0], a[1]], b, [a[0], b[1]]], true);
    ctx.setLineDash([]);
  }

  cancel(): void {
    this.a = this.b = null;
    this.host.redrawOverlay();
  }

  finish(): void {}

  hint(): string {
    return this.name === "box"
      ? "Drag from one corner to the opposite corner"
      : "Drag a box, then turn it with its round handle in Select (V)";
  }
}

/**
 * Polygon (closed) and polyline (open): click vertices; Enter or double-click finishes.
 * Hole mode (O with a polygon selected, or Shift+first click inside the selected polygon):
 * the ring drawn becomes a hole of that polygon.
 */
export class PolyTool implements Tool {
  readonly cursor = "crosshair";
  private pts: Pt[] = [];
  private hover: Pt | null = null;
  /** The polygon a hole is being drawn into, or null. */
  holeFor: string | null = null;

  constructor(
    private readonly host: ToolHost,
    readonly name: "polygon" | "polyline",
  ) {}

  get busy(): boolean {
    return this.pts.length > 0;
  }

  private nearFirst(p: PointerInfo): boolean {
    if (this.pts.length < 3 || this.name !== "polygon") return false;
    const [x, y] = this.host.view.toScreen(this.pts[0][0], this.pts[0][1]);
    return Math.hypot(x - p.sx, y - p.sy) <= 8;
  }

  down(p: PointerInfo): boolean {
    if (p.detail >= 2 && this.pts.length > 0) {
      this.finish();
      return true;
    }
    if (this.nearFirst(p)) {
      this.finish();
      return true;
    }
    const q = this.host.clampPt(p.x, p.y);
    if (this.name === "polygon" && this.pts.length === 0 && p.shift) {
      const t = this.selectedPolygon();
      if (t && pointInRing(q[0], q[1], t.geometry.points)) this.holeFor = t.id;
    }
    const last = this.pts[this.pts.length - 1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) this.pts.push(q);
    this.host.redrawOverlay();
    return true;
  }

  move(p: PointerInfo): void {
    this.hover = this.host.clampPt(p.x, p.y);
    if (this.pts.length) this.host.redrawOverlay();
  }

  up(): void {}

  key(e: KeyboardEvent): boolean {
    if (e.key === "Backspace" && this.pts.length) {
      this.pts.pop();
      this.host.redrawOverlay();
      return true;
    }
    return false;
  }

  /** The single selected, unlocked polygon, if any. */
  selectedPolygon(): Annotation | null {
    const { doc } = this.host;
    const a = doc.selected && doc.selection.size === 1 ? doc.get(doc.selected) : undefined;
    return a && a.type === "polygon" && !doc.locked.has(a.id) ? a : null;
  }

  private finishHole(target: string): void {
    const t = this.host.doc.get(target);
    if (!t || t.type !== "polygon") {
      this.cancel();
      return;
    }
    const g = t.geometry as PolygonGeom;
    const problem = holeProblem(g, this.pts);
    if (problem) return this.host.notify(`Hole refused: ${problem}`);
    this.host.doc.replace({ ...t, geometry: { ...g, holes: [...(g.holes ?? []), this.pts] } });
    this.pts = [];
    this.holeFor = null;
    this.host.doc.select(t.id);
    this.host.setTool("select");
  }

  finish(): void {
    const pts = this.pts;
    if (this.holeFor) return this.finishHole(this.holeFor);
    if (this.name === "polygon") {
      if (distinctCount(pts) < 3) return this.host.notify("a polygon needs 3 distinct points");
      if (!ringIsSimple(pts)) return this.host.notify("the polygon crosses itself: move or remove a point (Backspace)");
      this.host.create("polygon", { points: pts, holes: [] });
    } else {
      if (distinctCount(pts) < 2) return this.host.notify("a polyline needs 2 points");
      this.host.create("polyline", { points: pts });
    }
    this.pts = [];
    this.host.redrawOverlay();
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    if (!this.pts.length) return;
    draftStyle(ctx, this.host);
    if (this.holeFor) ctx.strokeStyle = ctx.fillStyle = "#e5484d";
    const pts = this.hover ? [...this.pts, this.hover] : this.pts;
    strokePts(ctx, this.host, pts, false);
    ctx.setLineDash([]);
    for (const [i, q] of this.pts.entries()) {
      const [x, y] = this.host.view.toScreen(q[0], q[1]);
      ctx.beginPath();
      ctx.arc(x, y, i === 0 && this.name === "polygon" ? 6 : 3.5, 0, Math.PI * 2);
      ctx.fill();
    }
  }

  cancel(): void {
    this.pts = [];
    this.holeFor = null;
    this.host.redrawOverlay();
  }

  hint(): string {
    if (this.holeFor) return "Hole: click its vertices inside the polygon · click the first point, double-click or Enter to close · Esc cancels";
    return this.name === "polygon"
      ? "Click vertices · click the first point, double-click or Enter to close · Backspace removes the last point · Shift+first click inside the selected polygon draws a hole · Esc cancels"
      : "Click vertices · double-click or Enter to finish · Backspace removes the last point · Esc cancels";
  }
}

/** Cuboid (2D projection): drag the front face, then move to place the back face and click. */
export class CuboidTool implements Tool {
  readonly name: ToolName = "cuboid";
  readonly cursor = "crosshair";
  private a: Pt | null = null;
  private b: Pt | null = null;
  private front: Rect | null = null;
  private anchor: Pt | null = null;
  private offset: Pt = [0, 0];

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.a !== null || this.front !== null;
  }

  down(p: PointerInfo): boolean {
    if (this.front) {
      this.commit();
      return true;
    }
    this.a = this.host.clampPt(p.x, p.y);
    this.b = this.a;
    return true;
  }

  move(p: PointerInfo): void {
    if (this.front && this.anchor) {
      this.offset = [round2(p.x - this.anchor[0]), round2(p.y - this.anchor[1])];
    } else if (this.a) {
      this.b = this.host.clampPt(p.x, p.y);
    } else return;
    this.host.redrawOverlay();
  }

  up(p: PointerInfo): void {
    if (!this.a || !this.b || this.front) return;
    const r = {
      x0: Math.min(this.a[0], this.b[0]),
      y0: Math.min(this.a[1], this.b[1]),
      x1: Math.max(this.a[0], this.b[0]),
      y1: Math.max(this.a[1], this.b[1]),
    };
    this.a = this.b = null;
    if (r.x1 - r.x0 < 2 || r.y1 - r.y0 < 2) return this.host.redrawOverlay();
    this.front = r;
    this.anchor = [p.x, p.y];
    this.offset = [0, 0];
  }

  private corners(): Pt[] {
    return cuboidFromFaces(this.front!, this.offset[0], this.offset[1]).map((q) => this.host.clampPt(q[0], q[1]));
  }

  private commit(): void {
    const projection = this.corners();
    this.front = null;
    this.anchor = null;
    this.host.create("cuboid", {
      center: [0, 0, 0],
      size: [1, 1, 1],
      rotation: [0, 0, 0],
      projection,
    });
  }

  finish(): void {
    if (this.front) this.commit();
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    draftStyle(ctx, this.host);
    if (this.a && this.b) {
      const [a, b] = [this.a, this.b];
      strokePts(ctx, this.host, [a, [b[0], a[1]], b, [a[0], b[1]]], true);
    } else if (this.front) {
      const c = this.corners();
      for (const [i, j] of CUBOID_EDGES) strokePts(ctx, this.host, [c[i], c[j]], false);
    }
    ctx.setLineDash([]);
  }

  cancel(): void {
    this.a = this.b = this.front = this.anchor = null;
    this.host.redrawOverlay();
  }

  hint(): string {
    return this.front
      ? "Move to place the back face, click to finish · Esc cancels"
      : "Drag the front face of the cuboid";
  }
}

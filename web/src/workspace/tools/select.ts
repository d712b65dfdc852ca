/** Select and edit: pick an object, drag its handles or its body; empty drags pan. */
import { round2, segmentDistance } from "../geometry";
import { drawHandles } from "../render";
import type { Annotation, Pt } from "../types";
import { dragHandle, grabbable, handlesOf, translate } from "./handles";
import type { PointerInfo, Tool, ToolHost } from "./host";

type Drag =
  | { kind: "handle"; id: string; index: number }
  | { kind: "move"; id: string; start: Pt };

export class SelectTool implements Tool {
  readonly name = "select";
  readonly cursor = "default";
  private drag: Drag | null = null;
  private preview: Annotation | null = null;

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.drag !== null;
  }

  editing(): string | null {
    return this.preview?.id ?? null;
  }

  /** The handle of the selected object under (sx, sy), or -1. */
  private handleAt(a: Annotation, p: PointerInfo): number {
    const hs = handlesOf(a, this.host.view);
    for (let i = hs.length - 1; i >= 0; i--) {
      if (!grabbable(a, i)) continue;
      const [x, y] = this.host.view.toScreen(hs[i][0], hs[i][1]);
      if (Math.abs(x - p.sx) <= 7 && Math.abs(y - p.sy) <= 7) return i;
    }
    return -1;
  }

  down(p: PointerInfo): boolean {
    const { doc } = this.host;
    const sel = doc.selected ? doc.get(doc.selected) : undefined;
    if (sel && !doc.locked.has(sel.id) && !doc.hidden.has(sel.id)) {
      const i = this.handleAt(sel, p);
      if (i >= 0 && p.alt && (sel.type === "polygon" || sel.type === "polyline")) {
        this.removeVertex(sel, i);
        return true;
      }
      if (i >= 0) {
        this.drag = { kind: "handle", id: sel.id, index: i };
        this.preview = sel;
        return true;
      }
      if (p.detail === 2 && (sel.type === "polygon" || sel.type === "polyline") && this.insertVertex(sel, p)) {
        return true;
      }
    }
    const hit = this.host.hitTest(p.x, p.y);
    if (!hit) {
      doc.select(null);
      return false;
    }
    doc.select(hit.id);
    this.drag = { kind: "move", id: hit.id, start: [p.x, p.y] };
    this.preview = hit;
    return true;
  }

  move(p: PointerInfo): void {
    if (!this.drag || !this.preview) return;
    const a = this.host.doc.get(this.drag.id);
    if (!a) return;
    const geometry =
      this.drag.kind === "handle"
        ? dragHandle(a, this.drag.index, this.host.clampPt(p.x, p.y))
        : translate(a, p.x - this.drag.start[0], p.y - this.drag.start[1], this.host.imageWidth, this.host.imageHeight);
    this.preview = { ...a, geometry };
    this.host.redrawOverlay();
  }

  up(): void {
    const prev = this.preview;
    const a = this.drag ? this.host.doc.get(this.drag.id) : undefined;
    this.drag = null;
    this.preview = null;
    if (prev && a && JSON.stringify(prev.geometry) !== JSON.stringify(a.geometry)) {
      this.host.doc.replace(prev);
    } else {
      this.host.redrawOverlay();
    }
  }

  private removeVertex(a: Annotation, i: number): void {
    const g = a.geometry;
    const n = g.points.length;
    if (i >= n) return;
    const min = a.type === "polygon" ? 3 : 2;
    if (n <= min) {
      this.host.notify(`a ${a.type} needs at least ${min} points`);
      return;
    }
    this.host.doc.replace({ ...a, geometry: { ...g, points: g.points.filter((_: Pt, k: number) => k !== i) } });
  }

  private insertVertex(a: Annotation, p: PointerInfo): boolean {
    const pts: Pt[] = a.geometry.points;
    const closed = a.type === "polygon";
    const tol = this.host.tolerance();
    let best = -1;
    let bestD = tol;
    const n = pts.length;
    for (let i = 0; i < (closed ? n : n - 1); i++) {
      const d = segmentDistance(p.x, p.y, pts[i], pts[(i + 1) % n]);
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    if (best < 0) return false;
    const q: Pt = this.host.clampPt(p.x, p.y);
    const points = [...pts.slice(0, best + 1), [round2(q[0]), round2(q[1])] as Pt, ...pts.slice(best + 1)];
    this.host.doc.replace({ ...a, geometry: { ...a.geometry, points } });
    return true;
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    const { doc, view } = this.host;
    const a = this.preview ?? (doc.selected ? doc.get(doc.selected) : undefined);
    if (!a || doc.hidden.has(a.id)) return;
    if (doc.locked.has(a.id)) return;
    const color = this.host.color(a.label);
    const hs = handlesOf(a, view);
    const live = hs.filter((_, i) => grabbable(a, i));
    drawHandles(ctx, live, view, color, this.drag?.kind === "handle" ? this.drag.index : -1);
  }

  /** The object being dragged, drawn by the engine on the overlay in place of the stored one. */
  previewOf(): Annotation | null {
    return this.preview;
  }

  cancel(): void {
    this.drag = null;
    this.preview = null;
    this.host.redrawOverlay();
  }

  finish(): void {}

  hint(): string {
    return "Click to select · drag handles to edit · double-click an edge to add a vertex · Alt+click a vertex to remove it · drag empty space to pan";
  }
}

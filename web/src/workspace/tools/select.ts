/**
 * Select and edit: pick an object, drag its handles or its body; empty drags pan.
 * Shift+click adds or removes an object from the selection; Shift+drag on empty space
 * selects every object inside the rectangle (lasso); dragging a selected object moves the
 * whole selection.
 */
import { pointsBounds, round2, segmentDistance, type Rect } from "../geometry";
import { drawHandles } from "../render";
import type { Annotation, Pt } from "../types";
import { dragHandle, grabbable, handlesOf, translate } from "./handles";
import type { PointerInfo, Tool, ToolHost } from "./host";

type Drag =
  | { kind: "handle"; id: string; index: number }
  | { kind: "move"; ids: string[]; start: Pt }
  | { kind: "lasso"; start: Pt; end: Pt; add: boolean };

export class SelectTool implements Tool {
  readonly name = "select";
  readonly cursor = "default";
  private drag: Drag | null = null;
  /** Objects being dragged, drawn on the overlay in place of the stored ones. */
  private preview = new Map<string, Annotation>();

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.drag !== null;
  }

  editing(): string | null {
    return this.preview.size === 1 ? [...this.preview.keys()][0] : null;
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
    const sel = doc.selected && doc.selection.size === 1 ? doc.get(doc.selected) : undefined;
    if (sel && !p.shift && !doc.locked.has(sel.id) && !doc.hidden.has(sel.id)) {
      const i = this.handleAt(sel, p);
      if (i >= 0 && p.alt && (sel.type === "polygon" || sel.type === "polyline")) {
        this.removeVertex(sel, i);
        return true;
      }
      if (i >= 0) {
        this.drag = { kind: "handle", id: sel.id, index: i };
        this.preview = new Map([[sel.id, sel]]);
        return true;
      }
      if (p.detail === 2 && (sel.type === "polygon" || sel.type === "polyline") && this.insertVertex(sel, p)) {
        return true;
      }
    }
    const hit = this.host.hitTest(p.x, p.y);
    if (!hit) {
      if (p.shift) {
        this.drag = { kind: "lasso", start: [p.x, p.y], end: [p.x, p.y], add: true };
        return true;
      }
      doc.select(null);
      return false;
    }
    if (p.shift) {
      doc.toggleSelect(hit.id);
      return true;
    }
    if (!doc.selection.has(hit.id)) doc.select(hit.id);
    else if (doc.selected !== hit.id) doc.setSelection([...doc.selection].filter((id) => id !== hit.id).concat(hit.id));
    const ids = [...doc.selection].filter((id) => !doc.locked.has(id) && !doc.hidden.has(id));
    this.drag = { kind: "move", ids, start: [p.x, p.y] };
    this.preview = new Map(ids.map((id) => [id, doc.get(id)!]));
    return true;
  }

  move(p: PointerInfo): void {
    const d = this.drag;
    if (!d) return;
    const { doc } = this.host;
    if (d.kind === "lasso") {
      d.end = [p.x, p.y];
      this.host.redrawOverlay();
      return;
    }
    if (d.kind === "handle") {
      const a = doc.get(d.id);
      if (!a) return;
      this.preview = new Map([[a.id, { ...a, geometry: dragHandle(a, d.index, this.host.clampPt(p.x, p.y)) }]]);
    } else {
      const items = d.ids.map((id) => doc.get(id)).filter((a): a is Annotation => !!a);
      // one offset for the whole selection, limited so that every object stays inside
      const b = unionBounds(items, doc);
      let dx = p.x - d.start[0];
      let dy = p.y - d.start[1];
      if (b) {
        dx = Math.min(Math.max(dx, -b.x0), this.host.imageWidth - b.x1);
        dy = Math.min(Math.max(dy, -b.y0), this.host.imageHeight - b.y1);
      }
      this.preview = new Map(
        items.map((a) => [a.id, { ...a, geometry: translate(a, dx, dy, this.host.imageWidth, this.host.imageHeight) }]),
      );
    }
    this.host.redrawOverlay();
  }

  up(): void {
    const d = this.drag;
    const prev = this.preview;
    this.drag = null;
    this.preview = new Map();
    const { doc } = this.host;
    if (d?.kind === "lasso") {
      const r: Rect = {
        x0: Math.min(d.start[0], d.end[0]),
        y0: Math.min(d.start[1], d.end[1]),
        x1: Math.max(d.start[0], d.end[0]),
        y1: Math.max(d.start[1], d.end[1]),
      };
      const ids = [...doc.index.query(r)].filter((id) => {
        const b = doc.index.bounds(id);
        return b && !doc.hidden.has(id) && !doc.locked.has(id) && b.x0 >= r.x0 && b.y0 >= r.y0 && b.x1 <= r.x1 && b.y1 <= r.y1;
      });
      const inOrder = doc.items.filter((a) => ids.includes(a.id) && a.type !== "tag").map((a) => a.id);
      doc.setSelection(inOrder, d.add);
      this.host.redrawOverlay();
      return;
    }
    const changed = [...prev.values()].filter((a) => {
      const stored = doc.get(a.id);
      return stored && JSON.stringify(stored.geometry) !== JSON.stringify(a.geometry);
    });
    if (changed.length) doc.replaceMany(changed);
    else this.host.redrawOverlay();
  }

  private removeVertex(a: Annotation, i: number): void {
    const g = a.geometry;
    const n = g.points.length;
    if (i >= n && a.type === "polygon") {
      // a hole's vertex: a hole left with fewer than 3 points is removed whole
      let k = i - n;
      const holes: Pt[][] = [];
      let note = "";
      for (const ring of g.holes as Pt[][]) {
        if (k >= 0 && k < ring.length) {
          if (ring.length > 3) holes.push(ring.filter((_, j) => j !== k));
          else note = "hole removed";
        } else holes.push(ring);
        k -= ring.length;
      }
      this.host.doc.replace({ ...a, geometry: { ...g, holes } });
      if (note) this.host.notify(note);
      return;
    }
    if (i >= n) return;
    const min = a.type === "polygon" ? 3 : 2;
    if (n <= min) {
      this.host.notify(`a ${a.type} needs at least ${min} points`);
      return;
    }
    this.host.doc.replace({ ...a, geometry: { ...g, points: g.points.filter((_: Pt, k: number) => k !== i) } });
  }

  /** Add a vertex on the closest edge within tolerance (ring 0 the outline, 1.. the holes). */
  private insertVertex(a: Annotation, p: PointerInfo): boolean {
    const closed = a.type === "polygon";
    const rings: Pt[][] = [a.geometry.points, ...(closed ? (a.geometry.holes ?? []) : [])];
    let r = -1;
    let i = -1;
    let bestD = this.host.tolerance();
    for (let k = 0; k < rings.length; k++) {
      const pts = rings[k];
      const n = pts.length;
      for (let j = 0; j < (closed ? n : n - 1); j++) {
        const d = segmentDistance(p.x, p.y, pts[j], pts[(j + 1) % n]);
        if (d <= bestD) {
          bestD = d;
          r = k;
          i = j;
        }
      }
    }
    if (r < 0) return false;
    const q: Pt = this.host.clampPt(p.x, p.y);
    const pts = rings[r];
    const ring = [...pts.slice(0, i + 1), [round2(q[0]), round2(q[1])] as Pt, ...pts.slice(i + 1)];
    const geometry =
      r === 0
        ? { ...a.geometry, points: ring }
        : { ...a.geometry, holes: rings.slice(1).map((h, k) => (k === r - 1 ? ring : h)) };
    this.host.doc.replace({ ...a, geometry });
    return true;
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    const { doc, view } = this.host;
    if (this.drag?.kind === "lasso") {
      const [x0, y0] = view.toScreen(this.drag.start[0], this.drag.start[1]);
      const [x1, y1] = view.toScreen(this.drag.end[0], this.drag.end[1]);
      ctx.save();
      ctx.strokeStyle = "#1f6feb";
      ctx.fillStyle = "rgba(31, 111, 235, 0.08)";
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.strokeRect(Math.min(x0, x1) + 0.5, Math.min(y0, y1) + 0.5, Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.restore();
    }
    if (doc.selection.size !== 1) return;
    const id = doc.selected;
    const a = (id && this.preview.get(id)) || (id ? doc.get(id) : undefined);
    if (!a || doc.hidden.has(a.id)) return;
    if (doc.locked.has(a.id)) return;
    const color = this.host.color(a.label);
    const hs = handlesOf(a, view);
    const live = hs.filter((_, i) => grabbable(a, i));
    drawHandles(ctx, live, view, color, this.drag?.kind === "handle" ? this.drag.index : -1);
  }

  /** The dragged version of an object, drawn by the engine in place of the stored one. */
  previewFor(id: string): Annotation | undefined {
    return this.preview.get(id);
  }

  cancel(): void {
    this.drag = null;
    this.preview = new Map();
    this.host.redrawOverlay();
  }

  finish(): void {}

  hint(): string {
    return "Click to select · Shift+click or Shift+drag to select many · drag handles to edit · double-click an edge to add a vertex · Alt+click a vertex to remove it · drag empty space to pan";
  }
}

/** Bounds of several objects together (image px), or null. */
function unionBounds(items: Annotation[], doc: { index: { bounds(id: string): Rect | undefined } }): Rect | null {
  const corners: Pt[] = [];
  for (const a of items) {
    const b = doc.index.bounds(a.id);
    if (b) corners.push([b.x0, b.y0], [b.x1, b.y1]);
  }
  return pointsBounds(corners);
}

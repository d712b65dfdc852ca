/**
 * Split (X): cut the selected polygon in two with a straight line. Click (or press) outside
 * the polygon, then click outside on the other side; the line must cross the outline
 * exactly twice. The larger piece keeps the object's id, the other is a new object of the
 * same class and attributes.
 */
import { splitPolygon } from "../polyops";
import { newId, type Annotation, type Pt } from "../types";
import type { PointerInfo, Tool, ToolHost } from "./host";

export class SplitTool implements Tool {
  readonly name = "split";
  readonly cursor = "crosshair";
  private a: Pt | null = null;
  private hover: Pt | null = null;
  private pressed = false;

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.a !== null;
  }

  private target(): Annotation | null {
    const { doc } = this.host;
    const a = doc.selected && doc.selection.size === 1 ? doc.get(doc.selected) : undefined;
    return a && a.type === "polygon" && !doc.locked.has(a.id) ? a : null;
  }

  editing(): string | null {
    return null;
  }

  down(p: PointerInfo): boolean {
    if (!this.target()) {
      this.host.notify("select one polygon to split, then press X");
      return false;
    }
    const q: Pt = [p.x, p.y];
    if (!this.a) {
      this.a = q;
      this.hover = q;
      this.pressed = true;
      this.host.redrawOverlay();
      return true;
    }
    this.cut(this.a, q);
    return true;
  }

  move(p: PointerInfo): void {
    if (!this.a) return;
    this.hover = [p.x, p.y];
    this.host.redrawOverlay();
  }

  up(p: PointerInfo): void {
    // press-drag-release draws the line in one gesture
    if (this.pressed && this.a && Math.hypot(p.x - this.a[0], p.y - this.a[1]) * this.host.view.scale > 8) this.cut(this.a, [p.x, p.y]);
    this.pressed = false;
  }

  private cut(a: Pt, b: Pt): void {
    this.a = this.hover = null;
    this.pressed = false;
    this.host.redrawOverlay();
    const t = this.target();
    if (!t) return;
    const r = splitPolygon(t.geometry, a, b);
    if (r.error !== undefined) {
      this.host.notify(`Split refused: ${r.error}`);
      return;
    }
    const [big, small] = r.ok;
    const { doc } = this.host;
    const piece: Annotation = { ...t, id: newId(), geometry: small, source: "human", confidence: null };
    doc.commit(doc.items.flatMap((x) => (x.id === t.id ? [{ ...x, geometry: big }, piece] : [x])));
    this.host.setTool("select");
    doc.setSelection([t.id, piece.id]);
    this.host.notify("Split into 2 polygons");
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    if (!this.a || !this.hover) return;
    const [x0, y0] = this.host.view.toScreen(this.a[0], this.a[1]);
    const [x1, y1] = this.host.view.toScreen(this.hover[0], this.hover[1]);
    ctx.save();
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 4;
    ctx.stroke();
    ctx.strokeStyle = "#1f6feb";
    ctx.lineWidth = 2;
    ctx.setLineDash([8, 4]);
    ctx.stroke();
    ctx.restore();
  }

  cancel(): void {
    this.a = this.hover = null;
    this.pressed = false;
    this.host.redrawOverlay();
  }

  finish(): void {}

  hint(): string {
    return this.a
      ? "Click outside the polygon on the other side to cut · Esc cancels"
      : "Split: click outside the selected polygon, then on the other side (the line must cross it twice)";
  }
}

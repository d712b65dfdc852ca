/**
 * Keypoints on the class's skeleton: each click places the next keypoint (Shift+click
 * places it as occluded, v=1); N skips one (v=0); Enter finishes early. With a keypoints
 * object selected that has unplaced points, clicks place those instead.
 */
import { drawLabel } from "../render";
import type { Annotation } from "../types";
import type { PointerInfo, Tool, ToolHost } from "./host";

export class KeypointsTool implements Tool {
  readonly name = "keypoints";
  readonly cursor = "crosshair";
  private pts: [number, number, number][] | null = null;
  private next = 0;
  private hover: [number, number] | null = null;

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.pts !== null;
  }

  private selectedIncomplete(): Annotation | null {
    const { doc } = this.host;
    const a = doc.selected ? doc.get(doc.selected) : undefined;
    if (!a || a.type !== "keypoints" || doc.locked.has(a.id)) return null;
    return (a.geometry.points as number[][]).some((p) => p[2] === 0) ? a : null;
  }

  private names(): string[] {
    return this.host.currentClass()?.skeleton?.keypoints ?? [];
  }

  down(p: PointerInfo): boolean {
    const [x, y] = this.host.clampPt(p.x, p.y);
    const v = p.shift ? 1 : 2;
    if (!this.pts) {
      const inc = this.selectedIncomplete();
      if (inc) {
        const points = (inc.geometry.points as number[][]).map((q) => [...q]);
        const i = points.findIndex((q) => q[2] === 0);
        points[i] = [x, y, v];
        this.host.doc.replace({ ...inc, geometry: { points } });
        return true;
      }
      const names = this.names();
      if (!names.length) {
        this.host.notify("choose a class with a skeleton for keypoints");
        return true;
      }
      this.pts = names.map(() => [0, 0, 0]);
      this.next = 0;
    }
    this.pts[this.next] = [x, y, v];
    this.advance();
    return true;
  }

  private advance(): void {
    this.next++;
    if (this.pts && this.next >= this.pts.length) this.finish();
    this.host.redrawOverlay();
  }

  move(p: PointerInfo): void {
    this.hover = [p.x, p.y];
    if (this.pts) this.host.redrawOverlay();
  }

  up(): void {}

  key(e: KeyboardEvent): boolean {
    if (this.pts && (e.key === "n" || e.key === "N")) {
      this.advance();
      return true;
    }
    return false;
  }

  finish(): void {
    if (!this.pts) return;
    const points = this.pts;
    this.pts = null;
    if (points.some((q) => q[2] > 0)) this.host.create("keypoints", { points });
    this.host.redrawOverlay();
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    if (!this.pts) return;
    const cls = this.host.currentClass();
    const color = this.host.color(cls?.name ?? "");
    const { view } = this.host;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    for (const [i, j] of cls?.skeleton?.edges ?? []) {
      const p = this.pts[i];
      const q = this.pts[j];
      if (p[2] === 0 || q[2] === 0) continue;
      ctx.beginPath();
      ctx.moveTo(...view.toScreen(p[0], p[1]));
      ctx.lineTo(...view.toScreen(q[0], q[1]));
      ctx.stroke();
    }
    for (const p of this.pts) {
      if (p[2] === 0) continue;
      const [x, y] = view.toScreen(p[0], p[1]);
      ctx.beginPath();
      ctx.arc(x, y, 4, 0, Math.PI * 2);
      if (p[2] === 2) ctx.fill();
      else ctx.stroke();
    }
    const name = this.names()[this.next];
    if (name && this.hover) {
      const [x, y] = view.toScreen(this.hover[0], this.hover[1]);
      drawLabel(ctx, `${this.next + 1}/${this.pts.length} ${name}`, x + 10, y - 6, color);
    }
  }

  cancel(): void {
    this.pts = null;
    this.host.redrawOverlay();
  }

  hint(): string {
    const name = this.pts ? this.names()[this.next] : this.names()[0];
    return `Click to place ${name ?? "each keypoint"} · Shift+click: occluded · N: skip (not labelled) · Enter: finish · Esc: cancel`;
  }
}

/**
 * Brush and eraser for masks. A stroke paints discs (radius in image px) into a full-size
 * bitmap of the target mask: the selected mask, or a new one of the current class. On
 * release the bitmap is encoded as COCO compressed RLE and committed (one undo step).
 */
import { hexToRgb } from "../colors";
import { bitmapBounds, tint, type MaskEntry } from "../masks";
import { encodeMask } from "../rle";
import type { Annotation } from "../types";
import type { PointerInfo, Tool, ToolHost } from "./host";

export class BrushTool implements Tool {
  readonly name = "mask";
  radius = 8;
  erase = false;
  private bitmap: Uint8Array | null = null;
  private target: Annotation | null = null;
  private canvas: HTMLCanvasElement | null = null;
  private last: [number, number] | null = null;
  private cursorAt: [number, number] | null = null;

  constructor(private readonly host: ToolHost) {}

  get cursor(): string {
    return "none";
  }

  get busy(): boolean {
    return this.bitmap !== null;
  }

  editing(): string | null {
    return this.target?.id ?? null;
  }

  down(p: PointerInfo): boolean {
    const { doc, imageWidth: w, imageHeight: h } = this.host;
    const sel = doc.selected ? doc.get(doc.selected) : undefined;
    const target = sel && sel.type === "mask" && !doc.locked.has(sel.id) ? sel : null;
    if (!target && (this.erase || p.alt)) {
      this.host.notify("select a mask to erase from");
      return true;
    }
    const label = target?.label ?? this.host.currentClass()?.name ?? "";
    if (!target && !this.host.currentClass()?.types.includes("mask")) {
      this.host.notify("the current class has no masks; pick one that has");
      return true;
    }
    this.target = target;
    this.bitmap = target ? this.host.masks.entry(target).bitmap.slice() : new Uint8Array(w * h);
    const b = { x0: 0, y0: 0, x1: w, y1: h };
    this.canvas = tint(this.bitmap, w, b, this.host.color(label), 140);
    this.last = null;
    this.paint(p);
    return true;
  }

  private paint(p: PointerInfo): void {
    if (!this.bitmap || !this.canvas) return;
    const erase = this.erase || p.alt;
    const from = this.last ?? [p.x, p.y];
    const dist = Math.hypot(p.x - from[0], p.y - from[1]);
    const steps = Math.max(1, Math.ceil(dist / Math.max(1, this.radius / 2)));
    const ctx = this.canvas.getContext("2d")!;
    const label = this.target?.label ?? this.host.currentClass()?.name ?? "";
    const [r, g, b] = hexToRgb(this.host.color(label));
    ctx.fillStyle = `rgba(${r},${g},${b},${140 / 255})`;
    for (let k = 1; k <= steps; k++) {
      const t = k / steps;
      this.disc(from[0] + (p.x - from[0]) * t, from[1] + (p.y - from[1]) * t, erase, ctx);
    }
    this.last = [p.x, p.y];
    this.host.redrawOverlay();
  }

  /** Set (or clear) every pixel whose centre lies within the radius; mirror it on the canvas. */
  private disc(cx: number, cy: number, erase: boolean, ctx: CanvasRenderingContext2D): void {
    const { imageWidth: w, imageHeight: h } = this.host;
    const bm = this.bitmap!;
    const r = this.radius;
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(h - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - cy;
      const half = r * r - dy * dy;
      if (half < 0) continue;
      const span = Math.sqrt(half);
      const xa = Math.max(0, Math.ceil(cx - span - 0.5));
      const xb = Math.min(w - 1, Math.floor(cx + span - 0.5));
      if (xb < xa) continue;
      bm.fill(erase ? 0 : 1, y * w + xa, y * w + xb + 1);
      if (erase) ctx.clearRect(xa, y, xb - xa + 1, 1);
      else {
        ctx.clearRect(xa, y, xb - xa + 1, 1);
        ctx.fillRect(xa, y, xb - xa + 1, 1);
      }
    }
  }

  move(p: PointerInfo): void {
    this.cursorAt = [p.x, p.y];
    if (this.bitmap) this.paint(p);
    else this.host.redrawOverlay();
  }

  up(): void {
    const bm = this.bitmap;
    const target = this.target;
    this.bitmap = null;
    this.canvas = null;
    this.target = null;
    if (!bm) return;
    const { imageWidth: w, imageHeight: h, doc } = this.host;
    const geometry = { rle: encodeMask(bm, h, w) };
    const entry: MaskEntry = { bitmap: bm, width: w, height: h, bounds: bitmapBounds(bm, w, h), canvas: null, color: "" };
    this.host.masks.put(geometry, entry);
    if (target) {
      if (!entry.bounds) doc.remove(target.id);
      else doc.replace({ ...target, geometry });
    } else if (entry.bounds) {
      this.host.create("mask", geometry);
    }
    this.host.redrawOverlay();
  }

  key(e: KeyboardEvent): boolean {
    if (e.key === "-" || e.key === "=" || e.key === "+") {
      this.radius = Math.max(1, Math.min(500, Math.round(this.radius * (e.key === "-" ? 0.8 : 1.25))));
      this.host.redrawOverlay();
      return true;
    }
    if (e.key === "e" || e.key === "E") {
      this.erase = !this.erase;
      this.host.redrawOverlay();
      return true;
    }
    return false;
  }

  overlay(ctx: CanvasRenderingContext2D): void {
    const { view } = this.host;
    if (this.canvas) {
      ctx.imageSmoothingEnabled = false;
      const [x, y] = view.toScreen(0, 0);
      ctx.drawImage(this.canvas, x, y, this.canvas.width * view.scale, this.canvas.height * view.scale);
    }
    if (this.cursorAt) {
      const [x, y] = view.toScreen(this.cursorAt[0], this.cursorAt[1]);
      ctx.beginPath();
      ctx.arc(x, y, Math.max(1, this.radius * view.scale), 0, Math.PI * 2);
      ctx.strokeStyle = this.erase ? "#ff4d4f" : "#ffffff";
      ctx.lineWidth = 1.5;
      ctx.setLineDash(this.erase ? [4, 3] : []);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  cancel(): void {
    this.bitmap = null;
    this.canvas = null;
    this.target = null;
    this.host.redrawOverlay();
  }

  finish(): void {}

  hint(): string {
    return `${this.erase ? "Eraser" : "Brush"} ${this.radius}px · E toggles eraser (or hold Alt) · - / = change the size · paint into the selected mask or start a new one`;
  }
}

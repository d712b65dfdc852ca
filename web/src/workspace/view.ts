/** The viewport: screen (CSS px) = image px * scale + (tx, ty). */
import type { Rect } from "./geometry";
import type { Pt } from "./types";

export class View {
  scale = 1;
  tx = 0;
  ty = 0;
  width = 1; // viewport size in CSS px
  height = 1;
  static readonly MIN_SCALE = 1 / 512;
  static readonly MAX_SCALE = 64;

  toScreen(x: number, y: number): Pt {
    return [x * this.scale + this.tx, y * this.scale + this.ty];
  }

  toImage(sx: number, sy: number): Pt {
    return [(sx - this.tx) / this.scale, (sy - this.ty) / this.scale];
  }

  /** The part of image space on screen. */
  visibleRect(margin = 0): Rect {
    const [x0, y0] = this.toImage(-margin, -margin);
    const [x1, y1] = this.toImage(this.width + margin, this.height + margin);
    return { x0, y0, x1, y1 };
  }

  fit(imageW: number, imageH: number, pad = 24): void {
    const s = Math.min((this.width - 2 * pad) / imageW, (this.height - 2 * pad) / imageH);
    this.scale = Math.max(View.MIN_SCALE, Math.min(View.MAX_SCALE, s > 0 ? s : 1));
    this.tx = (this.width - imageW * this.scale) / 2;
    this.ty = (this.height - imageH * this.scale) / 2;
  }

  /** Zoom by `factor` keeping the image point under (sx, sy) fixed. */
  zoomAt(sx: number, sy: number, factor: number): void {
    const s = Math.max(View.MIN_SCALE, Math.min(View.MAX_SCALE, this.scale * factor));
    const f = s / this.scale;
    this.tx = sx - (sx - this.tx) * f;
    this.ty = sy - (sy - this.ty) * f;
    this.scale = s;
  }

  panBy(dx: number, dy: number): void {
    this.tx += dx;
    this.ty += dy;
  }
}

/**
 * Decoded masks, cached per annotation object: the bitmap (row-major H*W, 1 = inside), its
 * bounds, and a tinted offscreen canvas cropped to those bounds for drawing.
 */
import { hexToRgb } from "./colors";
import type { Rect } from "./geometry";
import { decodeMask } from "./rle";
import type { Annotation, RleGeom } from "./types";

export interface MaskEntry {
  bitmap: Uint8Array;
  width: number;
  height: number;
  bounds: Rect | null;
  canvas: HTMLCanvasElement | null;
  color: string;
}

export function bitmapBounds(bitmap: Uint8Array, width: number, height: number): Rect | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (bitmap[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** A canvas holding the bitmap's pixels inside `bounds`, tinted with `color`. */
export function tint(bitmap: Uint8Array, width: number, bounds: Rect, color: string, alpha = 110): HTMLCanvasElement {
  const w = bounds.x1 - bounds.x0;
  const h = bounds.y1 - bounds.y0;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(w, h);
  const [r, g, b] = hexToRgb(color);
  const px = new Uint32Array(img.data.buffer);
  const on = (alpha << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
  for (let y = 0; y < h; y++) {
    const src = (y + bounds.y0) * width + bounds.x0;
    const dst = y * w;
    for (let x = 0; x < w; x++) if (bitmap[src + x]) px[dst + x] = on;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

export class MaskCache {
  private entries = new WeakMap<object, MaskEntry>();

  /** The decoded mask (no drawing canvas yet). */
  entry(a: Annotation): MaskEntry {
    const g = a.geometry as RleGeom;
    let e = this.entries.get(g);
    if (!e) {
      const [h, w] = g.rle.size;
      const bitmap = decodeMask(g.rle);
      e = { bitmap, width: w, height: h, bounds: bitmapBounds(bitmap, w, h), canvas: null, color: "" };
      this.entries.set(g, e);
    }
    return e;
  }

  /** The decoded mask with a canvas tinted in `color`. */
  get(a: Annotation, color: string): MaskEntry {
    const e = this.entry(a);
    if (e.bounds && (!e.canvas || e.color !== color)) {
      e.canvas = tint(e.bitmap, e.width, e.bounds, color);
      e.color = color;
    }
    return e;
  }

  bounds(a: Annotation): Rect | null {
    return this.entry(a).bounds;
  }

  /** Remember an already-decoded bitmap for a geometry object (after a brush stroke). */
  put(geometry: object, entry: MaskEntry): void {
    this.entries.set(geometry, entry);
  }
}

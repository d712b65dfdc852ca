/**
 * The DICOM image layer and its controls' state: the current frame, the window, and the
 * frame's pixels rendered through the window into a full-resolution canvas that `draw`
 * paints with the workspace's View, so shapes and pixels share one coordinate system and
 * one frame loop (docs/decisions/0008-dicom-viewer.md).
 */
import type { ImageLayer } from "../workspace/layers";
import type { View } from "../workspace/view";
import type { DecodedFrame, DicomFile, DicomInfo } from "./types";
import { PRESETS, lowHigh, type Window } from "./wl";

export type WindowChoice = "default" | (typeof PRESETS)[number]["name"] | "custom";

export class DicomStack implements ImageLayer {
  readonly info: DicomInfo;
  frame = 0;
  window: Window;
  choice: WindowChoice = "default";
  /** The frame being decoded (shown as "loading"), null when idle. */
  pending: number | null = null;
  error: string | null = null;
  /** Milliseconds of the last window render and the last frame decode. */
  renderMs = 0;
  decodeMs = 0;
  /** Off: every pixel computes the ramp (kept for benchmarks/dicom_viewer.py's comparison). */
  useTable = true;
  private readonly canvas: HTMLCanvasElement;
  private readonly image: ImageData;
  private decoded = new Map<number, DecodedFrame>();
  private inflight = new Map<number, Promise<DecodedFrame>>();
  private current: DecodedFrame;
  private listeners = new Set<() => void>();
  private want = 0;
  /** The engine redraws the image layer when this is called. */
  onRedraw: () => void = () => {};

  constructor(
    private readonly file: DicomFile,
    first: DecodedFrame,
    /** The window from the asset record (media_meta.window), preferred to the file's. */
    metaWindow: Window | null,
  ) {
    this.info = file.info;
    this.current = first;
    this.decoded.set(0, first);
    this.window = this.defaultWindow(metaWindow);
    this.canvas = document.createElement("canvas");
    this.canvas.width = first.width;
    this.canvas.height = first.height;
    this.image = new ImageData(first.width, first.height);
    this.render();
  }

  private fileWindow: Window | null = null;

  private defaultWindow(meta: Window | null): Window {
    const w = meta ?? this.info.window;
    if (w && w.width > 0) return (this.fileWindow = { center: w.center, width: w.width });
    // No window in the file: the frame's full range.
    const { min, max } = this.current;
    return (this.fileWindow = { center: (min + max + 1) / 2, width: Math.max(1, max - min + 1) });
  }

  get width(): number {
    return this.info.width;
  }
  get height(): number {
    return this.info.height;
  }
  get frames(): number {
    return this.info.frames;
  }
  /** Grayscale data has a window; colour data is drawn as it is. */
  get windowed(): boolean {
    return !this.info.color;
  }
  /** Value range of the current frame (scales the drag adjustment). */
  get range(): number {
    return this.current.max - this.current.min;
  }

  on(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Modality value (grayscale) or [r, g, b] at image pixel (x, y) of the current frame. */
  valueAt(x: number, y: number): number | number[] | null {
    const f = this.current;
    const i = Math.floor(y) * f.width + Math.floor(x);
    if (x < 0 || y < 0 || x >= f.width || y >= f.height) return null;
    if (f.values) return f.values[i];
    return [f.rgba![i * 4], f.rgba![i * 4 + 1], f.rgba![i * 4 + 2]];
  }

  setWindow(w: Window, choice: WindowChoice = "custom"): void {
    if (!this.windowed) return;
    this.window = { center: Math.round(w.center * 100) / 100, width: Math.max(1, Math.round(w.width * 100) / 100) };
    this.choice = choice;
    this.render();
    this.onRedraw();
    this.changed();
  }

  preset(name: WindowChoice): void {
    if (name === "default") this.setWindow(this.fileWindow!, "default");
    else {
      const p = PRESETS.find((q) => q.name === name);
      if (p) this.setWindow(p, p.name);
    }
  }

  /** Frame k's pixels: decoded already, being decoded (shared), or decoded now. */
  private frameData(k: number): Promise<DecodedFrame> {
    const have = this.decoded.get(k);
    if (have) return Promise.resolve(have);
    let p = this.inflight.get(k);
    if (!p) {
      const t0 = performance.now();
      p = this.file.decode(k).then((f) => {
        this.decodeMs = performance.now() - t0;
        this.decoded.set(k, f);
        if (this.decoded.size > 64) {
          for (const key of this.decoded.keys()) {
            if (key !== this.frame) {
              this.decoded.delete(key); // the oldest but the one shown
              break;
            }
          }
        }
        return f;
      });
      this.inflight.set(k, p);
      p.then(
        () => this.inflight.delete(k),
        () => this.inflight.delete(k),
      );
    }
    return p;
  }

  /**
   * Show frame k (0-based) once it is decoded; a later call wins over an earlier one still
   * decoding. The next frame in the direction of travel is then decoded ahead.
   */
  async setFrame(k: number): Promise<void> {
    k = Math.max(0, Math.min(this.frames - 1, Math.round(k)));
    const from = this.frame;
    this.want = k;
    if (k === this.frame) {
      if (this.pending !== null) {
        this.pending = null;
        this.changed();
      }
      return;
    }
    let f = this.decoded.get(k);
    if (!f) {
      this.pending = k;
      this.changed();
      try {
        f = await this.frameData(k);
      } catch (err) {
        if (this.want === k) {
          this.error = `frame ${k + 1}: ${err instanceof Error ? err.message : String(err)}`;
          this.pending = null;
          this.changed();
        }
        return;
      }
      if (this.want !== k) return; // a later request is on its way or done
    }
    this.pending = null;
    this.error = null;
    this.frame = k;
    this.current = f;
    this.render();
    this.onRedraw();
    this.changed();
    const next = k + (k >= from ? 1 : -1);
    if (next >= 0 && next < this.frames && !this.decoded.has(next)) this.frameData(next).catch(() => {});
  }

  /** Write the current frame through the window (or as RGBA) into the offscreen canvas. */
  private render(): void {
    const t0 = performance.now();
    const f = this.current;
    const out = this.image.data;
    if (f.rgba) out.set(f.rgba);
    else {
      const v = f.values!;
      const { lower, upper } = lowHigh(this.window);
      const span = Math.max(1, this.window.width) - 1 || 1;
      // y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255 as y = x * a + b, rounded (wl.display)
      const a = 255 / span;
      const b = (0.5 - (this.window.center - 0.5) / span) * 255 + 0.5;
      const inv = this.info.invert ? 255 : 0;
      // One 32-bit store per pixel: opaque grey (little-endian RGBA, as every browser).
      const px = new Uint32Array(out.buffer, out.byteOffset, v.length);
      const range = f.max - f.min;
      if (this.useTable && f.integer && range < 1 << 16 && range < v.length) {
        // Integer values: the window as a table over [min, max], one lookup per pixel.
        const lut = new Uint32Array(range + 1);
        for (let k = 0; k <= range; k++) {
          const x = f.min + k;
          let y = x <= lower ? 0 : x > upper ? 255 : (x * a + b) | 0;
          y = Math.max(0, Math.min(255, y)) ^ inv;
          lut[k] = 0xff000000 | (y << 16) | (y << 8) | y;
        }
        const min = f.min;
        for (let i = 0; i < v.length; i++) px[i] = lut[v[i] - min];
      } else {
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          let y = x <= lower ? 0 : x > upper ? 255 : (x * a + b) | 0;
          if (y > 255) y = 255;
          else if (y < 0) y = 0;
          y ^= inv; // 255 - y for MONOCHROME1
          px[i] = 0xff000000 | (y << 16) | (y << 8) | y;
        }
      }
    }
    this.canvas.getContext("2d")!.putImageData(this.image, 0, 0);
    this.renderMs = performance.now() - t0;
  }

  draw(ctx: CanvasRenderingContext2D, v: View): void {
    ctx.imageSmoothingEnabled = v.scale < 2;
    ctx.drawImage(this.canvas, v.tx, v.ty, this.width * v.scale, this.height * v.scale);
  }

  /** The current frame as a picture (the conflict view's preview). */
  async snapshot(): Promise<HTMLImageElement> {
    const blob = await new Promise<Blob>((res, rej) => this.canvas.toBlob((b) => (b ? res(b) : rej(new Error("canvas snapshot failed"))), "image/png"));
    const img = new Image();
    img.src = URL.createObjectURL(blob);
    await img.decode();
    return img;
  }

  close(): void {
    this.file.close();
    this.listeners.clear();
  }
}

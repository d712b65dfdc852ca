/**
 * A tile-pyramid image layer (Deep Zoom layout: level L is the image scaled by
 * 2^(L - maxLevel), cut in `tile` px squares named `{level}/{col}_{row}.{format}`).
 * It draws the level whose pixels are closest to screen pixels; a tile still loading is
 * stood in for by the matching part of its closest loaded ancestor (the coarsest level,
 * one tile for the whole image, is always requested first). Shapes keep full-resolution
 * pixel coordinates because the layer shares the engine's View.
 *
 * Tiles are fetched and decoded with `createImageBitmap`, off the main thread, so a frame
 * never waits for a JPEG decode (an `<img>` is decoded lazily, on the main thread, by the
 * first drawImage that needs it). Each screen pixel is painted once per frame: one
 * drawImage per visible tile, from the tile or from its ancestor's sub-rectangle.
 */
import type { ImageLayer } from "./layers";
import type { View } from "./view";

export interface PyramidSpec {
  width: number;
  height: number;
  tile: number;
  /** URL of one tile: level, column, row. */
  url: (level: number, col: number, row: number) => string;
}

interface TileEntry {
  bitmap: ImageBitmap | HTMLImageElement | null;
  width: number;
  height: number;
  failed: boolean;
}

const canBitmap = typeof createImageBitmap === "function" && typeof fetch === "function";

export class TileLayer implements ImageLayer {
  readonly maxLevel: number;
  private cache = new Map<string, TileEntry>();
  private loading = 0;
  private readonly capacity = 600;
  private queue: (() => void)[] = [];
  /** Called when a tile arrives (the engine redraws the image layer). */
  onTile: () => void = () => {};
  /** drawImage calls of the last draw (read by the benchmark). */
  lastDrawCalls = 0;

  constructor(readonly spec: PyramidSpec) {
    this.maxLevel = Math.ceil(Math.log2(Math.max(spec.width, spec.height, 1)));
  }

  get width(): number {
    return this.spec.width;
  }
  get height(): number {
    return this.spec.height;
  }

  /** Number of tiles requested and not yet arrived. */
  get pending(): number {
    return this.loading;
  }

  levelFor(scale: number): number {
    const k = Math.max(0, Math.floor(Math.log2(1 / Math.max(scale, 1e-9)) + 1e-9));
    return Math.max(0, this.maxLevel - k);
  }

  /** The coarsest level that still fits in one tile. */
  private get baseLevel(): number {
    return Math.max(0, this.maxLevel - Math.ceil(Math.log2(Math.max(this.width, this.height) / this.spec.tile)));
  }

  private load(key: string, level: number, col: number, row: number): TileEntry {
    const e: TileEntry = { bitmap: null, width: 0, height: 0, failed: false };
    this.loading++;
    const done = () => {
      this.loading--;
      this.onTile();
    };
    const url = this.spec.url(level, col, row);
    if (canBitmap) {
      this.later(() => this.fetchTile(url, key, e, done));
    } else {
      const img = new Image();
      img.onload = () => {
        e.bitmap = img;
        e.width = img.naturalWidth;
        e.height = img.naturalHeight;
        done();
      };
      img.onerror = () => {
        e.failed = true;
        done();
      };
      img.src = url;
    }
    this.cache.set(key, e);
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value as string;
      const old = this.cache.get(oldest);
      if (old?.bitmap && "close" in old.bitmap) old.bitmap.close();
      this.cache.delete(oldest);
    }
    return e;
  }

  /**
   * Requests start after the frame that needs them (a macrotask), not inside it: a frame
   * that enters a new zoom level needs ~35 tiles, and starting 35 fetches took a few ms of
   * that frame's time.
   */
  private later(fn: () => void): void {
    this.queue.push(fn);
    if (this.queue.length === 1) {
      setTimeout(() => {
        const q = this.queue;
        this.queue = [];
        for (const f of q) f();
      }, 0);
    }
  }

  private fetchTile(url: string, key: string, e: TileEntry, done: () => void): void {
    if (this.cache.get(key) !== e) {
      done(); // evicted before its request started
      return;
    }
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`${r.status}`))))
      .then((b) => createImageBitmap(b))
      .then((bmp) => {
        if (this.cache.get(key) !== e) {
          bmp.close(); // evicted while loading
        } else {
          e.bitmap = bmp;
          e.width = bmp.width;
          e.height = bmp.height;
        }
      })
      .catch((err: unknown) => {
        // a network error (TypeError) is retried; an HTTP error or a bad image is not
        if (err instanceof TypeError) this.failed(key, e);
        else e.failed = true;
      })
      .finally(done);
  }

  /** A tile whose request failed on the network is forgotten after a pause, so the next
   * draw asks again. */
  private failed(key: string, e: TileEntry): void {
    e.failed = true;
    setTimeout(() => {
      if (this.cache.get(key) === e) {
        this.cache.delete(key);
        this.onTile();
      }
    }, 1000);
  }

  /** A loaded tile, touching it in the LRU; requests it (and returns null) when absent. */
  private tile(level: number, col: number, row: number, request = true): TileEntry | null {
    const key = `${level}/${col}/${row}`;
    let e = this.cache.get(key);
    if (e) {
      this.cache.delete(key); // LRU: move to the end
      this.cache.set(key, e);
    } else if (request) {
      e = this.load(key, level, col, row);
    }
    return e && e.bitmap ? e : null;
  }

  /** Tiles of `level` that meet the view: [col, row, x, y] with (x, y) in full-res px. */
  private visibleTiles(v: View, level: number): [number, number, number, number][] {
    const span = this.spec.tile * 2 ** (this.maxLevel - level); // full-res px per tile
    const r = v.visibleRect();
    const c0 = Math.max(0, Math.floor(r.x0 / span));
    const c1 = Math.min(Math.ceil(this.width / span) - 1, Math.floor(r.x1 / span));
    const r0 = Math.max(0, Math.floor(r.y0 / span));
    const r1 = Math.min(Math.ceil(this.height / span) - 1, Math.floor(r.y1 / span));
    const out: [number, number, number, number][] = [];
    for (let row = r0; row <= r1; row++) {
      for (let col = c0; col <= c1; col++) out.push([col, row, col * span, row * span]);
    }
    return out;
  }

  private peek(level: number, col: number, row: number): boolean {
    return !!this.cache.get(`${level}/${col}/${row}`)?.bitmap;
  }

  /** True when every tile of the current view's level is loaded. */
  complete(v: View): boolean {
    const level = this.levelFor(v.scale);
    return this.visibleTiles(v, level).every(([c, r]) => this.peek(level, c, r));
  }

  draw(ctx: CanvasRenderingContext2D, v: View): void {
    ctx.imageSmoothingEnabled = true;
    const t = this.spec.tile;
    const base = this.baseLevel;
    this.tile(base, 0, 0); // the placeholder of last resort, always requested
    const level = Math.max(base, this.levelFor(v.scale));
    let calls = 0;
    for (const [col, row, fx, fy] of this.visibleTiles(v, level)) {
      const down = 2 ** (this.maxLevel - level);
      const e = this.tile(level, col, row);
      const [x, y] = v.toScreen(fx, fy);
      if (e) {
        // Tiles at the right and bottom edges are smaller than `tile`.
        ctx.drawImage(e.bitmap!, x, y, e.width * down * v.scale, e.height * down * v.scale);
        calls++;
        continue;
      }
      // Loading: the same area from the closest loaded ancestor (never requested here),
      // else the caller's fill style (the engine's stage colour).
      let found = false;
      for (let up = 1; level - up >= base && !found; up++) {
        const a = this.tile(level - up, col >> up, row >> up, false);
        if (!a) continue;
        const k = 2 ** up; // tiles of `level` per ancestor tile, per side
        const sx = ((col % k) * t) / k;
        const sy = ((row % k) * t) / k;
        const sw = Math.min(t / k, a.width - sx);
        const sh = Math.min(t / k, a.height - sy);
        if (sw <= 0 || sh <= 0) continue;
        const s = down * k * v.scale; // screen px per ancestor px
        ctx.drawImage(a.bitmap!, sx, sy, sw, sh, x, y, sw * s, sh * s);
        calls++;
        found = true;
      }
      if (!found) ctx.fillRect(x, y, t * down * v.scale, t * down * v.scale);
    }
    this.lastDrawCalls = calls;
  }
}

/**
 * A tile-pyramid image layer (Deep Zoom layout: level L is the image scaled by
 * 2^(L - maxLevel), cut in `tile` px squares named `{level}/{col}_{row}.{format}`).
 * It draws the level whose pixels are closest to screen pixels, over the whole image at
 * the coarsest level as a placeholder while tiles load; shapes keep full-resolution pixel
 * coordinates because the layer shares the engine's View.
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

export class TileLayer implements ImageLayer {
  readonly maxLevel: number;
  private cache = new Map<string, HTMLImageElement>();
  private loading = 0;
  private readonly capacity = 600;
  /** Called when a tile arrives (the engine redraws the image layer). */
  onTile: () => void = () => {};

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

  private tileImage(level: number, col: number, row: number): HTMLImageElement | null {
    const key = `${level}/${col}/${row}`;
    let img = this.cache.get(key);
    if (img) {
      this.cache.delete(key); // LRU: move to the end
      this.cache.set(key, img);
      return img.complete && img.naturalWidth > 0 ? img : null;
    }
    img = new Image();
    this.loading++;
    const done = () => {
      this.loading--;
      this.onTile();
    };
    img.onload = done;
    img.onerror = done;
    img.src = this.spec.url(level, col, row);
    this.cache.set(key, img);
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return null;
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

  private drawLevel(ctx: CanvasRenderingContext2D, v: View, level: number): void {
    const down = 2 ** (this.maxLevel - level);
    for (const [col, row, fx, fy] of this.visibleTiles(v, level)) {
      const img = this.tileImage(level, col, row);
      if (!img) continue;
      const [x, y] = v.toScreen(fx, fy);
      // Tiles at the right and bottom edges are smaller than `tile`.
      ctx.drawImage(img, x, y, img.naturalWidth * down * v.scale, img.naturalHeight * down * v.scale);
    }
  }

  private peek(level: number, col: number, row: number): boolean {
    const img = this.cache.get(`${level}/${col}/${row}`);
    return !!img && img.complete && img.naturalWidth > 0;
  }

  /** True when every tile of the current view's level is loaded. */
  complete(v: View): boolean {
    const level = this.levelFor(v.scale);
    return this.visibleTiles(v, level).every(([c, r]) => this.peek(level, c, r));
  }

  draw(ctx: CanvasRenderingContext2D, v: View): void {
    ctx.imageSmoothingEnabled = true;
    this.drawLevel(ctx, v, this.baseLevel);
    const level = this.levelFor(v.scale);
    if (level > this.baseLevel) this.drawLevel(ctx, v, level);
  }
}

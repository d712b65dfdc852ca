/**
 * A uniform grid over image space: each entry's bounding box is registered in every cell
 * it touches. Queries return the ids whose boxes may meet a rectangle; callers do exact
 * tests. Insert/remove are O(cells touched), so an edit never rebuilds the whole index.
 */
import type { Rect } from "./geometry";

export class GridIndex {
  private cells = new Map<number, Set<string>>();
  private boxes = new Map<string, Rect>();
  private readonly cols: number;

  constructor(
    width: number,
    height: number,
    readonly cell: number = Math.max(64, Math.ceil(Math.max(width, height) / 128)),
  ) {
    this.cols = Math.ceil(width / cell) + 2;
  }

  private range(r: Rect): [number, number, number, number] {
    const c = this.cell;
    const clampC = (v: number) => Math.max(-1, Math.min(this.cols - 2, Math.floor(v / c)));
    return [clampC(r.x0), Math.max(-1, Math.floor(r.y0 / c)), clampC(r.x1), Math.max(-1, Math.floor(r.y1 / c))];
  }

  private key(cx: number, cy: number): number {
    return (cy + 1) * this.cols + (cx + 1);
  }

  get size(): number {
    return this.boxes.size;
  }

  insert(id: string, r: Rect): void {
    if (this.boxes.has(id)) this.remove(id);
    this.boxes.set(id, r);
    const [cx0, cy0, cx1, cy1] = this.range(r);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const k = this.key(cx, cy);
        let set = this.cells.get(k);
        if (!set) this.cells.set(k, (set = new Set()));
        set.add(id);
      }
    }
  }

  remove(id: string): void {
    const r = this.boxes.get(id);
    if (!r) return;
    this.boxes.delete(id);
    const [cx0, cy0, cx1, cy1] = this.range(r);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) this.cells.get(this.key(cx, cy))?.delete(id);
    }
  }

  bounds(id: string): Rect | undefined {
    return this.boxes.get(id);
  }

  /** Ids whose bounding boxes intersect `r` (each once). */
  query(r: Rect): Set<string> {
    const out = new Set<string>();
    const [cx0, cy0, cx1, cy1] = this.range(r);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const set = this.cells.get(this.key(cx, cy));
        if (!set) continue;
        for (const id of set) {
          if (out.has(id)) continue;
          const b = this.boxes.get(id)!;
          if (b.x1 >= r.x0 && b.x0 <= r.x1 && b.y1 >= r.y0 && b.y0 <= r.y1) out.add(id);
        }
      }
    }
    return out;
  }
}

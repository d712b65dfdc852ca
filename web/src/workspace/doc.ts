/**
 * The document being edited: the annotation list with undo/redo, per-object view flags
 * (hidden, locked: local to this browser, not saved), the selection, and a spatial index.
 * Annotations are immutable values; an edit replaces objects, so undo keeps snapshots of
 * the list (arrays of shared references, cheap even for thousands of objects).
 */
import { annotationBounds, type Rect } from "./geometry";
import { GridIndex } from "./spatial";
import type { Annotation, ImageInfo } from "./types";

export type DocEvent = "items" | "selection" | "flags";

const HISTORY = 200;

export class Doc {
  items: Annotation[] = [];
  selected: string | null = null;
  hidden = new Set<string>();
  locked = new Set<string>();
  /** Bumped on every content change; the autosaver compares it with what it saved. */
  version = 0;
  readonly index: GridIndex;
  private byId = new Map<string, Annotation>();
  private undoStack: Annotation[][] = [];
  private redoStack: Annotation[][] = [];
  private listeners = new Set<(e: DocEvent) => void>();

  constructor(
    readonly image: ImageInfo,
    private readonly maskBounds: (a: Annotation) => Rect | null,
  ) {
    this.index = new GridIndex(image.width, image.height);
  }

  on(fn: (e: DocEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: DocEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  get(id: string): Annotation | undefined {
    return this.byId.get(id);
  }

  /** Items in drawing order: z_order ascending, then list order. */
  ordered(): Annotation[] {
    return this.items
      .map((a, i) => [a, i] as const)
      .sort((p, q) => p[0].z_order - q[0].z_order || p[1] - q[1])
      .map((p) => p[0]);
  }

  private setItems(next: Annotation[]): void {
    const nextIds = new Map(next.map((a) => [a.id, a]));
    for (const [id, old] of this.byId) {
      const now = nextIds.get(id);
      if (!now) this.index.remove(id);
      else if (now !== old) this.reindex(now);
    }
    for (const a of next) if (!this.byId.has(a.id)) this.reindex(a);
    this.items = next;
    this.byId = nextIds;
    if (this.selected && !nextIds.has(this.selected)) this.selected = null;
    this.version++;
  }

  private reindex(a: Annotation): void {
    const b = annotationBounds(a, this.maskBounds);
    if (b) this.index.insert(a.id, b);
    else this.index.remove(a.id);
  }

  /** Replace the whole list without history (loading a revision or a draft). */
  load(items: Annotation[], keepHistory = false): void {
    if (!keepHistory) {
      this.undoStack = [];
      this.redoStack = [];
    } else {
      this.pushUndo();
    }
    this.setItems(items);
    this.emit("items");
  }

  private pushUndo(): void {
    this.undoStack.push(this.items);
    if (this.undoStack.length > HISTORY) this.undoStack.shift();
    this.redoStack = [];
  }

  /** One undoable change. */
  commit(next: Annotation[]): void {
    this.pushUndo();
    this.setItems(next);
    this.emit("items");
  }

  add(a: Annotation): void {
    this.commit([...this.items, a]);
    this.select(a.id);
  }

  replace(a: Annotation): void {
    this.commit(this.items.map((x) => (x.id === a.id ? a : x)));
  }

  remove(id: string): void {
    this.commit(this.items.filter((x) => x.id !== id));
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  undo(): void {
    const prev = this.undoStack.pop();
    if (!prev) return;
    this.redoStack.push(this.items);
    this.setItems(prev);
    this.emit("items");
  }

  redo(): void {
    const next = this.redoStack.pop();
    if (!next) return;
    this.undoStack.push(this.items);
    this.setItems(next);
    this.emit("items");
  }

  select(id: string | null): void {
    if (this.selected === id) return;
    this.selected = id;
    this.emit("selection");
  }

  toggleHidden(id: string): void {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
    this.emit("flags");
  }

  toggleLocked(id: string): void {
    if (this.locked.has(id)) this.locked.delete(id);
    else this.locked.add(id);
    this.emit("flags");
  }

  showAll(): void {
    this.hidden.clear();
    this.emit("flags");
  }

  /** Move an object one step up or down in drawing order (renumbers z_order densely). */
  restack(id: string, dir: 1 | -1): void {
    const order = this.ordered();
    const i = order.findIndex((a) => a.id === id);
    const j = i + dir;
    if (i < 0 || j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    const z = new Map(order.map((a, k) => [a.id, k]));
    this.commit(this.items.map((a) => (a.z_order === z.get(a.id) ? a : { ...a, z_order: z.get(a.id)! })));
  }
}

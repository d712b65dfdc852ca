/**
 * The document being edited: the annotation list with undo/redo, per-object view flags
 * (hidden, locked: local to this browser, not saved), the selection, and a spatial index.
 * Annotations are immutable values; an edit replaces objects, so undo keeps snapshots of
 * the list (arrays of shared references, cheap even for thousands of objects).
 */
import { annotationBounds, type Rect } from "./geometry";
import { GridIndex } from "./spatial";
import { humanizeEdits } from "./suggestions";
import type { Annotation, ImageInfo } from "./types";

export type DocEvent = "items" | "selection" | "flags";

const HISTORY = 200;

/**
 * The hidden set: objects the person hid, and (multi-frame assets) every object of another
 * frame, so that they are neither drawn nor hit-testable.
 */
class HiddenSet extends Set<string> {
  constructor(private readonly offFrame: (id: string) => boolean) {
    super();
  }
  override has(id: string): boolean {
    return super.has(id) || this.offFrame(id);
  }
}

export class Doc {
  items: Annotation[] = [];
  /** The primary selected object (the last one clicked); null when nothing is selected. */
  selected: string | null = null;
  /** Every selected object (shift-click, lasso, paste); always contains `selected`. */
  selection = new Set<string>();
  /** Multi-frame assets: the frame shown (0-based); null when the asset has one frame. */
  frame: number | null = null;
  /** Set by the frame's owner (the DICOM controls): show frame k. */
  frameRequest: ((k: number) => void) | null = null;
  /** An object to select once its frame is shown ({@link showFrameOf}). */
  private selectOnFrame: string | null = null;
  hidden: Set<string> = new HiddenSet((id) => this.offFrame(id));
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
    for (const id of this.selection) if (!nextIds.has(id)) this.selection.delete(id);
    if (this.selected && !nextIds.has(this.selected)) this.selected = [...this.selection].pop() ?? null;
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

  /**
   * One undoable change. A model suggestion whose geometry, label or attributes change
   * becomes the annotator's (source "human", same id): see suggestions.ts.
   */
  commit(next: Annotation[]): void {
    next = humanizeEdits(this.byId, next);
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

  /** Replace several objects in one undoable step. */
  replaceMany(changed: Annotation[]): void {
    if (!changed.length) return;
    const m = new Map(changed.map((a) => [a.id, a]));
    this.commit(this.items.map((x) => m.get(x.id) ?? x));
  }

  /** Remove several objects in one undoable step. */
  removeMany(ids: Iterable<string>): void {
    const drop = new Set(ids);
    if (!drop.size) return;
    this.commit(this.items.filter((x) => !drop.has(x.id)));
  }

  /** Add several objects in one undoable step and select them. */
  addMany(added: Annotation[]): void {
    if (!added.length) return;
    this.commit([...this.items, ...added]);
    this.setSelection(added.map((a) => a.id));
  }

  /** The selected objects, in list order. */
  selectedItems(): Annotation[] {
    return this.items.filter((a) => this.selection.has(a.id));
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

  /** Select one object (or none), dropping any other selection. */
  select(id: string | null): void {
    if (this.selected === id && this.selection.size === (id ? 1 : 0)) return;
    this.selected = id;
    this.selection = new Set(id ? [id] : []);
    this.emit("selection");
  }

  /** Add an object to the selection, or take it out (shift-click). */
  toggleSelect(id: string): void {
    if (this.selection.has(id)) {
      this.selection.delete(id);
      if (this.selected === id) this.selected = [...this.selection].pop() ?? null;
    } else {
      this.selection.add(id);
      this.selected = id;
    }
    this.emit("selection");
  }

  /** Select exactly these objects (the last one becomes the primary), or add them. */
  setSelection(ids: string[], add = false): void {
    const known = ids.filter((id) => this.byId.has(id));
    this.selection = new Set(add ? [...this.selection, ...known] : known);
    this.selected = known.length ? known[known.length - 1] : add ? this.selected : null;
    this.emit("selection");
  }

  /** True for an object drawn on another frame than the one shown (tags belong to all). */
  offFrame(id: string): boolean {
    if (this.frame === null) return false;
    const a = this.byId.get(id);
    return !!a && a.type !== "tag" && (a.frame ?? 0) !== this.frame;
  }

  /** Show frame `k` of a multi-frame asset (null: single frame); drops off-frame selection. */
  setFrame(k: number | null): void {
    if (this.frame === k) return;
    this.frame = k;
    const keep = [...this.selection].filter((id) => !this.offFrame(id));
    const wanted = this.selectOnFrame;
    if (wanted !== null && this.byId.has(wanted) && !this.offFrame(wanted)) {
      this.selectOnFrame = null;
      this.setSelection([wanted]);
    } else if (keep.length !== this.selection.size) this.setSelection(keep);
    this.emit("flags");
  }

  /** Go to the frame object `id` is drawn on and select it there (multi-frame assets). */
  showFrameOf(id: string): void {
    const a = this.byId.get(id);
    if (!a || this.frame === null || !this.frameRequest) return;
    if (!this.offFrame(id)) {
      this.select(id);
      return;
    }
    this.selectOnFrame = id;
    this.frameRequest(a.frame ?? 0);
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

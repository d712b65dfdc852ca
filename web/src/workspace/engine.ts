/**
 * The canvas engine: three stacked canvases (image, static shapes, overlay), the view,
 * the active tool, and pointer handling. The shapes layer redraws only when the document,
 * the selection or the view changes, and draws only what the spatial index finds on
 * screen; the object being edited and the tool's draft live on the overlay, which is the
 * only layer redrawn while the pointer moves.
 *
 * What a frame costs is mostly not our JavaScript (under 1 ms): Chromium rasterizes each
 * changed canvas (in software here, on the main thread) and composites the layers. So a
 * pan or zoom changes as few canvas pixels as it can: the shapes layer is a canvas up to
 * twice the viewport that is moved and scaled with a CSS transform (no pixel redrawn), the tile
 * layer paints each screen pixel once from bitmaps decoded off the main thread, and the
 * overlay is neither redrawn nor composited while it has nothing to show. `frameStats` counts what
 * each frame traced and redrew (the benchmark reads it).
 */
import { classColor } from "./colors";
import type { Doc } from "./doc";
import { round2, clamp } from "./geometry";
import { pick } from "./hit";
import type { MaskCache } from "./masks";
import { drawLabel, drawMask, flushBatch, newBatch, traceAnnotation } from "./render";
import { confidenceText } from "./suggestions";
import { BrushTool } from "./tools/brush";
import { CuboidTool, PolyTool, RectTool } from "./tools/draw";
import type { PointerInfo, Tool, ToolHost, ToolName } from "./tools/host";
import { KeypointsTool } from "./tools/keypoints";
import { SelectTool } from "./tools/select";
import { SplitTool } from "./tools/split";
import { defaultAttributes, newId, type AnnType, type Annotation, type ClassDef, type Pt, type SchemaDef } from "./types";
import type { ImageLayer } from "./layers";
import { drawConfidences, traceShapes } from "./shapes";
import { View } from "./view";

export interface EngineState {
  tool: ToolName;
  hint: string;
  zoom: number;
  cursor: Pt | null;
}

type Layer = "image" | "shapes" | "overlay";

/** What a frame drew: the benchmark reads these to show what a frame redraws. */
export interface FrameStats {
  /** Objects traced into the shapes layer by this frame (0 when it was only moved). */
  shapes: number;
  /** Objects traced into the overlay by this frame. */
  overlay: number;
  /** The layers whose canvases were redrawn ("image shapes overlay"). */
  redrawn: string;
}

export class Engine implements ToolHost {
  readonly view = new View();
  readonly canvases: Record<Layer, HTMLCanvasElement>;
  readonly tools: Record<ToolName, Tool>;
  tool: Tool;
  label = "";
  cursor: Pt | null = null;
  /** Milliseconds spent in each frame's drawing (kept for the last 600 frames). */
  readonly frameTimes: number[] = [];
  /** What each of the last 600 frames traced and redrew. */
  readonly frameStats: FrameStats[] = [];
  /** Frames drawn since the engine started. */
  frameCount = 0;
  private stat: FrameStats = { shapes: 0, overlay: 0, redrawn: "" };
  private dirty = new Set<Layer>();
  private raf = 0;
  private order: Annotation[] = [];
  private orderVersion = -1;
  private pan: { sx: number; sy: number } | null = null;
  private spaceDown = false;
  private lastDown = { t: 0, x: 0, y: 0, n: 0 };
  private resize: ResizeObserver;
  private unsub: () => void;
  /** Refit on resize until the person zooms or pans. */
  private autoFit = true;
  private notices: ((m: string) => void)[] = [];
  /**
   * The shapes layer's canvas is `k` (up to 2) viewports wide and high, placed with a CSS
   * transform: panning inside the margin and zoom gestures move it
   * without redrawing a pixel. `x0, y0`: image point at its top-left; `scale` it was drawn at.
   */
  private cache: { scale: number; x0: number; y0: number; k: number; version: number } | null = null;
  private placed = "";
  private contentVersion = 0;
  /** The items the shapes layer was last traced from (id -> object), to tell what changed. */
  private traced = new Map<string, Annotation>();
  private overlayShown = true;
  private stageColor = "#23272e";
  /** "Accept all suggestions ≥" threshold (Shift+A and the panel). */
  acceptThreshold = 0.8;
  /** Off: every frame traces every visible shape (kept for the benchmark's comparison). */
  cacheShapes = true;
  private zooming = 0;
  private stateListeners: ((s: EngineState) => void)[] = [];

  constructor(
    private readonly container: HTMLElement,
    readonly image: ImageLayer,
    readonly doc: Doc,
    readonly schema: SchemaDef,
    readonly masks: MaskCache,
  ) {
    const mk = (name: Layer) => {
      const c = document.createElement("canvas");
      c.className = `layer layer-${name}`;
      c.dataset.layer = name;
      container.appendChild(c);
      return c;
    };
    this.canvases = { image: mk("image"), shapes: mk("shapes"), overlay: mk("overlay") };
    this.canvases.shapes.style.transformOrigin = "0 0";
    this.canvases.shapes.style.willChange = "transform";
    this.tools = {
      select: new SelectTool(this),
      box: new RectTool(this, "box"),
      rotated_box: new RectTool(this, "rotated_box"),
      polygon: new PolyTool(this, "polygon"),
      polyline: new PolyTool(this, "polyline"),
      keypoints: new KeypointsTool(this),
      mask: new BrushTool(this),
      cuboid: new CuboidTool(this),
      split: new SplitTool(this),
    };
    this.tool = this.tools.select;
    this.label = schema.classes.find((c) => c.types.some((t) => t !== "tag"))?.name ?? schema.classes[0]?.name ?? "";
    const ov = this.canvases.overlay;
    ov.addEventListener("pointerdown", this.onDown);
    ov.addEventListener("pointermove", this.onMove);
    ov.addEventListener("pointerup", this.onUp);
    ov.addEventListener("pointercancel", this.onUp);
    ov.addEventListener("pointerleave", this.onLeave);
    ov.addEventListener("wheel", this.onWheel, { passive: false });
    ov.addEventListener("contextmenu", (e) => e.preventDefault());
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(container);
    this.unsub = doc.on((e) => {
      if (e === "items" || e === "flags" || e === "selection") {
        // An edit of the selected objects only (they are drawn on the overlay) leaves the
        // shapes layer as it is: dragging one vertex never re-traces the other objects.
        if (e !== "items" || this.shapesChanged()) this.contentVersion++;
        this.request("shapes", "overlay");
      }
      this.emitState();
    });
    this.layout();
  }

  destroy(): void {
    cancelAnimationFrame(this.raf);
    this.resize.disconnect();
    this.unsub();
    for (const c of Object.values(this.canvases)) c.remove();
  }

  // ---- ToolHost -------------------------------------------------------------------------
  get imageWidth(): number {
    return this.image.width;
  }
  get imageHeight(): number {
    return this.image.height;
  }
  currentClass(): ClassDef | undefined {
    return this.classOf(this.label);
  }
  classOf(label: string): ClassDef | undefined {
    return this.schema.classes.find((c) => c.name === label);
  }
  color(label: string): string {
    return classColor(this.schema.classes.findIndex((c) => c.name === label));
  }
  skeleton = (label: string) => this.classOf(label)?.skeleton;
  clampPt(x: number, y: number): Pt {
    return [round2(clamp(x, 0, this.image.width)), round2(clamp(y, 0, this.image.height))];
  }
  tolerance(): number {
    return 6 / this.view.scale;
  }
  create(type: AnnType, geometry: unknown): Annotation | null {
    const cls = this.currentClass();
    if (!cls || !cls.types.includes(type)) {
      this.notify(`class “${this.label}” does not allow ${type.replace("_", " ")}; pick another class`);
      return null;
    }
    const z = this.doc.items.reduce((m, a) => Math.max(m, a.z_order), -1) + 1;
    const a: Annotation = {
      id: newId(),
      type,
      label: cls.name,
      geometry,
      attributes: defaultAttributes(cls),
      source: "human",
      confidence: null,
      z_order: type === "tag" ? 0 : z,
    };
    if (this.doc.frame !== null && type !== "tag") a.frame = this.doc.frame;
    this.doc.add(a);
    return a;
  }
  hitTest(x: number, y: number): Annotation | null {
    return pick(this.doc, this.ordered(), x, y, this.tolerance(), this.masks, this.skeleton);
  }
  notify(message: string): void {
    for (const fn of this.notices) fn(message);
  }
  redrawOverlay(): void {
    this.request("overlay");
    this.emitState();
  }
  redrawShapes(): void {
    this.contentVersion++;
    this.request("shapes");
  }

  /** Did an items change touch anything the shapes layer draws (not being edited)? */
  private shapesChanged(): boolean {
    if (!this.cache || this.traced.size === 0) return true;
    const skip = this.editingIds();
    let seen = 0;
    for (const a of this.doc.items) {
      if (skip.has(a.id)) continue;
      if (this.traced.get(a.id) !== a) return true;
      seen++;
    }
    return seen !== this.traced.size;
  }

  // ---- public controls ------------------------------------------------------------------
  onNotice(fn: (m: string) => void): void {
    this.notices.push(fn);
  }
  onState(fn: (s: EngineState) => void): void {
    this.stateListeners.push(fn);
  }
  state(): EngineState {
    return { tool: this.tool.name, hint: this.tool.hint(), zoom: this.view.scale, cursor: this.cursor };
  }
  private emitState(): void {
    const s = this.state();
    for (const fn of this.stateListeners) fn(s);
  }

  setTool(name: ToolName): void {
    if (this.tool.busy) this.tool.finish();
    this.tool.cancel();
    this.tool = this.tools[name];
    this.canvases.overlay.style.cursor = this.tool.cursor;
    if (name !== "select" && name !== "split") {
      const type: AnnType = name;
      if (!this.currentClass()?.types.includes(type)) {
        const cls = this.schema.classes.find((c) => c.types.includes(type));
        if (cls) this.label = cls.name;
      }
    }
    this.request("shapes", "overlay");
    this.emitState();
  }

  /** Split the selected polygon with a line (X). */
  startSplit(): boolean {
    if (!(this.tools.polygon as PolyTool).selectedPolygon()) {
      this.notify("select one polygon to split it");
      return false;
    }
    this.setTool("split");
    return true;
  }

  /** Draw a hole into the selected polygon (O): the polygon tool in hole mode. */
  startHole(): boolean {
    const poly = this.tools.polygon as PolyTool;
    const t = poly.selectedPolygon();
    if (!t) {
      this.notify("select one polygon to draw a hole in it");
      return false;
    }
    this.setTool("polygon");
    poly.holeFor = t.id;
    this.emitState();
    return true;
  }

  setLabel(name: string): void {
    this.label = name;
    this.emitState();
  }

  fit(): void {
    this.autoFit = true;
    this.view.fit(this.image.width, this.image.height);
    this.request("image", "shapes", "overlay");
    this.emitState();
  }

  zoomBy(factor: number, sx = this.view.width / 2, sy = this.view.height / 2): void {
    this.autoFit = false;
    this.view.zoomAt(sx, sy, factor);
    clearTimeout(this.zooming);
    this.zooming = window.setTimeout(() => {
      this.zooming = 0;
      this.request("shapes");
    }, 150);
    this.request("image", "shapes", "overlay");
    this.emitState();
  }

  panBy(dx: number, dy: number): void {
    this.autoFit = false;
    this.view.panBy(dx, dy);
    this.request("image", "shapes", "overlay");
  }

  /** Client (page) coordinates of an image point: used by tests and the benchmark. */
  imageToClient(x: number, y: number): Pt {
    const r = this.canvases.overlay.getBoundingClientRect();
    const [sx, sy] = this.view.toScreen(x, y);
    return [r.left + sx, r.top + sy];
  }

  /** Keyboard input for the active tool; true if used. */
  key(e: KeyboardEvent): boolean {
    if (e.key === "Escape") {
      if (this.tool.busy) this.tool.cancel();
      else this.doc.select(null);
      return true;
    }
    if (e.key === "Enter" && this.tool.busy) {
      this.tool.finish();
      return true;
    }
    if (e.key === " ") {
      this.spaceDown = e.type === "keydown";
      this.canvases.overlay.style.cursor = this.spaceDown ? "grab" : this.tool.cursor;
      return true;
    }
    return this.tool.key?.(e) ?? false;
  }

  ordered(): Annotation[] {
    if (this.orderVersion !== this.doc.version) {
      this.order = this.doc.ordered();
      this.orderVersion = this.doc.version;
    }
    return this.order;
  }

  // ---- layout and drawing ---------------------------------------------------------------
  private layout(): void {
    const r = this.container.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return;
    // Canvas pixels match device pixels (sharp on HiDPI screens; 1 in headless chromium).
    const dpr = window.devicePixelRatio || 1;
    this.view.width = r.width;
    this.view.height = r.height;
    this.stageColor = getComputedStyle(this.container).backgroundColor || this.stageColor;
    for (const c of Object.values(this.canvases)) {
      c.width = Math.round(r.width * dpr);
      c.height = Math.round(r.height * dpr);
      c.style.width = `${r.width}px`;
      c.style.height = `${r.height}px`;
    }
    this.cache = null; // the shapes canvas was resized above: trace it again
    this.place("");
    if (this.autoFit) this.view.fit(this.image.width, this.image.height);
    this.request("image", "shapes", "overlay");
    this.emitState();
  }

  request(...layers: Layer[]): void {
    for (const l of layers) this.dirty.add(l);
    if (!this.raf) this.raf = requestAnimationFrame(() => this.frame());
  }

  /** Draw every dirty layer now (the benchmark calls this to time frames). */
  frame(): void {
    this.raf = 0;
    const t0 = performance.now();
    this.stat = { shapes: 0, overlay: 0, redrawn: "" };
    if (this.dirty.has("image")) this.drawImage();
    if (this.dirty.has("shapes")) this.drawShapes();
    if (this.dirty.has("overlay")) this.drawOverlay();
    this.dirty.clear();
    this.frameTimes.push(performance.now() - t0);
    this.frameStats.push(this.stat);
    this.frameCount++;
    if (this.frameTimes.length > 600) this.frameTimes.shift();
    if (this.frameStats.length > 600) this.frameStats.shift();
  }

  private ctx(layer: Layer): CanvasRenderingContext2D {
    const c = this.canvases[layer];
    const ctx = c.getContext("2d")!;
    const dpr = c.width / Math.max(1, this.view.width);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.view.width, this.view.height);
    return ctx;
  }

  /**
   * The picture. (An opaque canvas, `alpha: false`, was tried: chromium's software
   * compositor then spent 2-3x longer drawing the layers, so the layer stays transparent.)
   */
  private drawImage(): void {
    const ctx = this.ctx("image");
    ctx.fillStyle = this.stageColor; // what a tile layer paints where nothing is loaded yet
    this.image.draw(ctx, this.view);
    this.stat.redrawn += "image ";
  }

  private editingIds(): Set<string> {
    const ids = new Set<string>(this.doc.selection);
    const e = this.tool.editing?.();
    if (e) ids.add(e);
    return ids;
  }

  /**
   * The shapes layer: a blit of the cache when it covers the view at this scale; during a
   * zoom gesture the cache is drawn scaled and redrawn sharp when the gesture pauses.
   */
  private drawShapes(): void {
    const v = this.view;
    if (!this.cacheShapes) {
      this.sizeShapes(1);
      this.place("");
      this.traceShapes(this.ctx("shapes"), v);
      return;
    }
    const c = this.cache;
    const current = c !== null && c.version === this.contentVersion;
    if (current && c.scale !== v.scale && this.zooming) {
      this.placeCache(c); // scaled by the compositor; traced sharp when the gesture pauses
      return;
    }
    const vis = v.visibleRect();
    const covers =
      current &&
      c.scale === v.scale &&
      vis.x0 >= c.x0 &&
      vis.y0 >= c.y0 &&
      vis.x1 <= c.x0 + (c.k * v.width) / v.scale &&
      vis.y1 <= c.y0 + (c.k * v.height) / v.scale;
    this.placeCache(covers ? c : this.renderCache());
  }

  /** Device pixels per CSS pixel of the layers. */
  private get dpr(): number {
    return this.canvases.image.width / Math.max(1, this.view.width);
  }

  /**
   * How many viewports wide the shapes canvas is: 2 (half a viewport of margin each side),
   * less where that would pass ~24 million device pixels (a large HiDPI screen), at least 1.25.
   */
  private cacheFactor(): number {
    const px = this.view.width * this.view.height * this.dpr * this.dpr;
    return Math.max(1.25, Math.min(2, Math.sqrt(24e6 / Math.max(1, px))));
  }

  /** The shapes canvas at `k` times the viewport (the cache; 1: no cache). */
  private sizeShapes(k: number): void {
    const c = this.canvases.shapes;
    const w = Math.round(this.view.width * k * this.dpr);
    const h = Math.round(this.view.height * k * this.dpr);
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
      c.style.width = `${this.view.width * k}px`;
      c.style.height = `${this.view.height * k}px`;
    }
  }

  private place(transform: string): void {
    if (transform === this.placed) return;
    this.placed = transform;
    this.canvases.shapes.style.transform = transform;
  }

  /** Move (and during a zoom gesture, scale) the shapes canvas over the view. */
  private placeCache(c: NonNullable<Engine["cache"]>): void {
    const [x, y] = this.view.toScreen(c.x0, c.y0);
    const k = this.view.scale / c.scale;
    this.place(k === 1 ? `translate(${x}px, ${y}px)` : `translate(${x}px, ${y}px) scale(${k})`);
  }

  /** Trace the shapes around the view (half a viewport of margin each side) into the layer. */
  private renderCache(): NonNullable<Engine["cache"]> {
    const v = this.view;
    const k = this.cacheFactor();
    const w = v.width * k;
    const h = v.height * k;
    this.sizeShapes(k);
    const ctx = this.canvases.shapes.getContext("2d")!;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const [x0, y0] = v.toImage((-v.width * (k - 1)) / 2, (-v.height * (k - 1)) / 2);
    const cv = new View();
    cv.scale = v.scale;
    cv.tx = -x0 * v.scale;
    cv.ty = -y0 * v.scale;
    cv.width = w;
    cv.height = h;
    this.traceShapes(ctx, cv);
    this.cache = { scale: v.scale, x0, y0, k, version: this.contentVersion };
    return this.cache;
  }

  private traceShapes(ctx: CanvasRenderingContext2D, v: View): void {
    const skip = this.editingIds();
    this.stat.shapes += traceShapes(ctx, v, this, skip);
    this.stat.redrawn += "shapes ";
    this.traced.clear();
    for (const a of this.doc.items) if (!skip.has(a.id)) this.traced.set(a.id, a);
  }

  private drawOverlay(): void {
    const v = this.view;
    const select = this.tools.select as SelectTool;
    // Nothing to show (no selection, no draft, no tool cursor): the overlay is cleared
    // once and set to opacity 0, so that a pan neither redraws it nor has the compositor
    // blend it (it still takes the pointer events).
    const empty = this.doc.selection.size === 0 && this.tool === select && !select.busy;
    if (empty && !this.overlayShown) return;
    const ctx = this.ctx("overlay");
    this.stat.redrawn += "overlay ";
    if (empty !== !this.overlayShown) {
      this.overlayShown = !empty;
      this.canvases.overlay.style.opacity = empty ? "0" : "";
    }
    if (empty) return;
    const confidences: [Annotation, string][] = [];
    // one batch per colour: a selection of thousands costs a few fill/stroke calls
    const batches = new Map<string, ReturnType<typeof newBatch>>();
    let label: (() => void) | null = null;
    for (const id of this.editingIds()) {
      const a = select.previewFor(id) ?? this.doc.get(id);
      if (!a || this.doc.hidden.has(id)) continue;
      if (this.tool.editing?.() === id && this.tool !== select) continue; // the tool draws it
      const c = this.color(a.label);
      if (a.type === "mask") drawMask(ctx, a, v, this.masks, c);
      let b = batches.get(c);
      if (!b) batches.set(c, (b = newBatch()));
      traceAnnotation(b, a, v, this.skeleton(a.label));
      this.stat.overlay++;
      if (a.source === "model") confidences.push([a, c]);
      const bounds = this.doc.index.bounds(id);
      if (bounds && id === this.doc.selected) {
        const [x, y] = v.toScreen(bounds.x0, bounds.y0);
        const model = a.source === "model" ? ` · suggestion ${confidenceText(a.confidence)}` : "";
        const text = `${a.label}${model}${this.doc.locked.has(id) ? " (locked)" : ""}`;
        label = () => drawLabel(ctx, text, x, Math.max(16, y - 2), c);
      }
    }
    for (const [c, b] of batches) flushBatch(ctx, b, c, 0.28, 2.5);
    label?.();
    drawConfidences(ctx, v, this.doc, confidences.filter(([a]) => a.id !== this.doc.selected));
    this.tool.overlay(ctx);
    if (this.tool !== select && this.doc.selected) select.overlay(ctx);
  }

  // ---- pointer --------------------------------------------------------------------------
  private info(e: PointerEvent | WheelEvent, detail = 1): PointerInfo {
    const r = this.canvases.overlay.getBoundingClientRect();
    const sx = e.clientX - r.left;
    const sy = e.clientY - r.top;
    const [x, y] = this.view.toImage(sx, sy);
    return { x, y, sx, sy, button: e.button, shift: e.shiftKey, alt: e.altKey, ctrl: e.ctrlKey || e.metaKey, detail };
  }

  private onDown = (e: PointerEvent): void => {
    this.canvases.overlay.setPointerCapture(e.pointerId);
    this.container.focus({ preventScroll: true });
    const now = performance.now();
    const near = Math.hypot(e.clientX - this.lastDown.x, e.clientY - this.lastDown.y) < 6;
    const n = now - this.lastDown.t < 400 && near ? this.lastDown.n + 1 : 1;
    this.lastDown = { t: now, x: e.clientX, y: e.clientY, n };
    const p = this.info(e, n);
    if (e.button === 1 || e.button === 2 || this.spaceDown || !(this.tool.down(p) || false)) {
      this.pan = { sx: e.clientX, sy: e.clientY };
      this.canvases.overlay.style.cursor = "grabbing";
    }
    this.emitState();
  };

  private onMove = (e: PointerEvent): void => {
    const p = this.info(e);
    this.cursor = [round2(p.x), round2(p.y)];
    if (this.pan) {
      this.panBy(e.clientX - this.pan.sx, e.clientY - this.pan.sy);
      this.pan = { sx: e.clientX, sy: e.clientY };
    } else {
      this.tool.move(p);
    }
    this.emitState();
  };

  private onUp = (e: PointerEvent): void => {
    if (this.pan) {
      this.pan = null;
      this.canvases.overlay.style.cursor = this.spaceDown ? "grab" : this.tool.cursor;
      return;
    }
    this.tool.up(this.info(e));
  };

  private onLeave = (): void => {
    this.cursor = null;
    this.emitState();
  };

  private onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const p = this.info(e);
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.zoomBy(Math.exp(-dy * 0.0015), p.sx, p.sy);
  };
}

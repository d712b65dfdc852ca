/**
 * The canvas benchmark page (`#/bench?n=5000&w=40000&h=40000&tiles=/bench-tiles`): a
 * deterministic set of n polygons (20-60 vertices) over a tile pyramid, with hooks that
 * benchmarks/workspace.py drives. Loaded on demand, never part of the main bundle.
 */
import { useEffect, useRef } from "preact/hooks";
import { Doc } from "./doc";
import { Engine } from "./engine";
import { MaskCache } from "./masks";
import { TileLayer } from "./tiles";
import type { Annotation, Pt, SchemaDef } from "./types";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n star-shaped (hence simple) polygons of 20-60 vertices, radius 0.1-1 % of the image side. */
export function syntheticPolygons(n: number, w: number, h: number, seed: number): Annotation[] {
  const rnd = mulberry32(seed);
  const labels = ["person", "object", "animal"];
  const side = Math.min(w, h);
  const out: Annotation[] = [];
  for (let i = 0; i < n; i++) {
    const r = side * (0.001 + 0.009 * rnd());
    const cx = r + rnd() * (w - 2 * r);
    const cy = r + rnd() * (h - 2 * r);
    const k = 20 + Math.floor(rnd() * 41);
    const points: Pt[] = [];
    for (let j = 0; j < k; j++) {
      const a = (j / k) * Math.PI * 2;
      const rr = r * (0.65 + 0.35 * rnd());
      points.push([Math.round((cx + rr * Math.cos(a)) * 100) / 100, Math.round((cy + rr * Math.sin(a)) * 100) / 100]);
    }
    out.push({
      id: `p${i}`,
      type: "polygon",
      label: labels[i % 3],
      geometry: { points, holes: [] },
      attributes: {},
      source: "human",
      confidence: null,
      z_order: i,
    });
  }
  return out;
}

const SCHEMA: SchemaDef = {
  classes: [
    { name: "person", types: ["polygon"] },
    { name: "object", types: ["polygon"] },
    { name: "animal", types: ["polygon"] },
  ],
};

export interface BenchResult {
  drawMs: number[];
  intervalMs: number[];
  /** Objects traced into the shapes layer at each step (0: the layer was only moved). */
  shapesTraced: number[];
  /** Steps at which the shapes layer was traced again (the rest only moved it). */
  shapeRedraws: number;
}

/** What the frames drew while a vertex of one polygon was dragged (see `prepareDrag`). */
export interface DragResult {
  frames: number;
  /** The most objects any frame traced into the shapes layer, from the press to the
   * commit after the drop. */
  shapesTracedMax: number;
  /** The most objects any frame traced into the overlay (the edited polygon). */
  overlayTracedMax: number;
  /** Objects the shapes layer holds on screen (what a full redraw would trace). */
  onScreen: number;
  /** Vertices of the polygon that the drag moved (the one under the pointer: 1). */
  movedVertices: number;
}

export function BenchPage({ query }: { query: URLSearchParams }) {
  const stage = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const n = Number(query.get("n") ?? 5000);
    const w = Number(query.get("w") ?? 40000);
    const h = Number(query.get("h") ?? 40000);
    const seed = Number(query.get("seed") ?? 1);
    const base = query.get("tiles") ?? "/bench-tiles";
    const tiles = new TileLayer({ width: w, height: h, tile: 256, url: (l, c, r) => `${base}/${l}/${c}_${r}.jpg` });
    const masks = new MaskCache();
    const doc = new Doc({ width: w, height: h }, (a) => masks.bounds(a));
    const t0 = performance.now();
    doc.load(syntheticPolygons(n, w, h, seed));
    const loadMs = performance.now() - t0;
    const engine = new Engine(stage.current!, tiles, doc, SCHEMA, masks);
    engine.cacheShapes = query.get("cache") !== "0";
    tiles.onTile = () => engine.request("image");
    const state: Record<string, unknown> = { engine, tiles, loadMs, firstViewMs: null };
    const watch = () => {
      if (tiles.complete(engine.view) && engine.frameTimes.length > 0) {
        engine.frame(); // the last tiles are on screen
        state.firstViewMs = performance.now();
      } else requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
    /** A fixed pan/zoom script, one step per animation frame; returns per-frame times. */
    state.run = async (): Promise<BenchResult> => {
      engine.fit();
      engine.frame();
      const v = engine.view;
      const steps: (() => void)[] = [];
      const cx = v.width * 0.45;
      const cy = v.height * 0.55;
      for (let i = 0; i < 60; i++) steps.push(() => engine.zoomBy(1.06, cx, cy));
      for (let i = 0; i < 80; i++) steps.push(() => engine.panBy(14, 6));
      for (let i = 0; i < 60; i++) steps.push(() => engine.zoomBy(1.08, cx + i, cy));
      for (let i = 0; i < 60; i++) steps.push(() => engine.panBy(-18, 9));
      for (let i = 0; i < 60; i++) steps.push(() => engine.zoomBy(1 / 1.12, cx, cy));
      const drawMs: number[] = [];
      const intervalMs: number[] = [];
      const shapesTraced: number[] = [];
      let shapeRedraws = 0;
      let last = performance.now();
      for (const step of steps) {
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        intervalMs.push(now - last);
        last = now;
        step();
        const s = performance.now();
        engine.frame();
        drawMs.push(performance.now() - s);
        const st = engine.frameStats[engine.frameStats.length - 1];
        shapesTraced.push(st.shapes);
        if (st.redrawn.includes("shapes")) shapeRedraws++;
      }
      return { drawMs, intervalMs, shapesTraced, shapeRedraws };
    };
    /**
     * Select the largest polygon at the fitted view and return the client position of its
     * first vertex: the benchmark then drags it with the mouse and calls `dragResult`.
     */
    state.prepareDrag = async () => {
      engine.fit();
      engine.frame();
      await new Promise((r) => setTimeout(r, 200));
      const polys = doc.items.filter((a) => a.type === "polygon");
      let best = polys[0];
      let area = 0;
      for (const a of polys) {
        const b = doc.index.bounds(a.id)!;
        const ar = (b.x1 - b.x0) * (b.y1 - b.y0);
        if (ar > area) [best, area] = [a, ar];
      }
      const onScreen = doc.index.query(engine.view.visibleRect(8)).size;
      doc.select(best.id);
      engine.frame();
      await new Promise((r) => requestAnimationFrame(r));
      const p = (best.geometry as { points: number[][] }).points[0];
      (state as Record<string, unknown>).drag = { id: best.id, start: engine.frameCount, onScreen, before: best.geometry };
      return { client: engine.imageToClient(p[0], p[1]), id: best.id };
    };
    state.dragResult = async (): Promise<DragResult> => {
      const d = (state as Record<string, unknown>).drag as { id: string; start: number; onScreen: number; before: { points: number[][] } };
      await new Promise((r) => setTimeout(r, 100));
      const frames = engine.frameStats.slice(engine.frameStats.length - Math.min(600, engine.frameCount - d.start));
      const after = (doc.get(d.id)!.geometry as { points: number[][] }).points;
      const moved = after.filter((q, i) => q[0] !== d.before.points[i][0] || q[1] !== d.before.points[i][1]).length;
      return {
        frames: frames.length,
        shapesTracedMax: Math.max(0, ...frames.map((f) => f.shapes)),
        overlayTracedMax: Math.max(0, ...frames.map((f) => f.overlay)),
        onScreen: d.onScreen,
        movedVertices: moved,
      };
    };
    (window as unknown as Record<string, unknown>).__bench = state;
    return () => engine.destroy();
  }, []);
  return <div class="stage bench-stage" ref={stage} style={{ position: "fixed", inset: 0 }} />;
}

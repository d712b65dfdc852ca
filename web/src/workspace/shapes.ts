/**
 * Tracing the shapes layer: every visible object not being edited, batched by colour
 * (render.ts), then the confidence tags of model suggestions big enough on screen.
 */
import type { Doc } from "./doc";
import type { MaskCache } from "./masks";
import { drawConfidence, drawMask, flushBatch, newBatch, traceAnnotation } from "./render";
import { confidenceText } from "./suggestions";
import type { Annotation, Skeleton } from "./types";
import type { View } from "./view";

/** What the shapes layer reads from the engine. */
export interface ShapeSource {
  readonly doc: Doc;
  readonly masks: MaskCache;
  ordered(): Annotation[];
  color(label: string): string;
  skeleton(label: string): Skeleton | undefined;
}

/** At most this many confidence tags per frame (the rest stay readable in the list). */
const MAX_TAGS = 400;

/** Returns the number of objects traced. */
export function traceShapes(ctx: CanvasRenderingContext2D, v: View, src: ShapeSource, skip: Set<string>): number {
  const { doc } = src;
  const visible = doc.index.query(v.visibleRect(8));
  if (!visible.size) return 0;
  let batch = newBatch();
  let color = "";
  let count = 0;
  let traced = 0;
  const tags: [Annotation, string][] = [];
  const flush = () => {
    if (count) flushBatch(ctx, batch, color, 0.16);
    batch = newBatch();
    count = 0;
  };
  for (const a of src.ordered()) {
    if (!visible.has(a.id) || skip.has(a.id) || doc.hidden.has(a.id)) continue;
    const c = src.color(a.label);
    if (c !== color) {
      flush();
      color = c;
    }
    if (a.type === "mask") {
      flush();
      drawMask(ctx, a, v, src.masks, c);
      continue;
    }
    if (a.source === "model" && tags.length < MAX_TAGS) tags.push([a, c]);
    const b = doc.index.bounds(a.id)!;
    if ((b.x1 - b.x0) * v.scale < 3 && (b.y1 - b.y0) * v.scale < 3) {
      const [x, y] = v.toScreen(b.x0, b.y0);
      batch.fill.rect(x - 1, y - 1, 3, 3);
      batch.stroke.rect(x - 1, y - 1, 3, 3);
    } else {
      traceAnnotation(batch, a, v, src.skeleton(a.label));
    }
    count++;
    traced++;
  }
  flush();
  drawConfidences(ctx, v, doc, tags);
  return traced;
}

/** The confidence of each model suggestion at least 24 px wide on screen, at its top-left. */
export function drawConfidences(ctx: CanvasRenderingContext2D, v: View, doc: Doc, tags: [Annotation, string][]): void {
  for (const [a, c] of tags) {
    const b = doc.index.bounds(a.id);
    if (!b || (b.x1 - b.x0) * v.scale < 24) continue;
    const [x, y] = v.toScreen(b.x0, b.y0);
    drawConfidence(ctx, confidenceText(a.confidence), x + 2, y + 2, c);
  }
}

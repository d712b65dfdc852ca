/**
 * The conflict view: someone saved this task after the revision your work was based on.
 * Both versions are drawn side by side with what differs; the person keeps theirs, keeps
 * mine, or keeps both. Nothing is dropped: theirs stays in the server's history, and mine
 * stays in the undo history and in localStorage (labelproof:discarded:<task>).
 */
import { useEffect, useRef } from "preact/hooks";
import type { AnyRevision } from "./autosave";
import { classColor } from "./colors";
import { MaskCache } from "./masks";
import { drawMask, flushBatch, newBatch, traceAnnotation } from "./render";
import type { Annotation, SchemaDef } from "./types";
import { View } from "./view";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export type Resolution = "mine" | "theirs" | "both";

function key(a: Annotation): string {
  return JSON.stringify([a.type, a.label, a.geometry, a.attributes, a.z_order]);
}

/** Theirs plus every object of mine that theirs lacks (clashing ids get new ones). */
export function mergeBoth(mine: Annotation[], theirs: Annotation[], newId: () => string): Annotation[] {
  const theirsById = new Map(theirs.map((a) => [a.id, a]));
  const theirKeys = new Set(theirs.map(key));
  const out = [...theirs];
  for (const a of mine) {
    if (theirKeys.has(key(a))) continue;
    out.push(theirsById.has(a.id) ? { ...a, id: newId() } : a);
  }
  return out;
}

/** A picture of the whole image (the image itself or its thumbnail) and its full size. */
export interface PreviewImage {
  image: HTMLImageElement;
  width: number;
  height: number;
}

function Preview({ items, image: p, schema, masks }: { items: Annotation[]; image: PreviewImage; schema: SchemaDef; masks: MaskCache }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current!;
    const w = c.clientWidth || 360;
    const h = c.clientHeight || 260;
    c.width = w;
    c.height = h;
    const v = new View();
    v.width = w;
    v.height = h;
    v.fit(p.width, p.height, 6);
    const ctx = c.getContext("2d")!;
    ctx.drawImage(p.image, v.tx, v.ty, p.width * v.scale, p.height * v.scale);
    for (const a of [...items].sort((p, q) => p.z_order - q.z_order)) {
      const idx = schema.classes.findIndex((k) => k.name === a.label);
      const color = classColor(idx);
      if (a.type === "mask") drawMask(ctx, a, v, masks, color);
      const b = newBatch();
      traceAnnotation(b, a, v, schema.classes[idx]?.skeleton);
      flushBatch(ctx, b, color, 0.2, 2);
    }
  }, [items, p]);
  return <canvas ref={ref} class="conflict-canvas" />;
}

function ItemList({ items, other }: { items: Annotation[]; other: Annotation[] }) {
  const otherById = new Map(other.map((a) => [a.id, a]));
  return (
    <ul class="diff-list">
      {items.map((a) => {
        const o = otherById.get(a.id);
        const mark = !o ? "only here" : key(o) !== key(a) ? "changed" : "";
        return (
          <li key={a.id} class={mark ? "diff-" + (o ? "changed" : "added") : ""}>
            <span>{a.label}</span> <span class="muted">{a.type.replace("_", " ")}</span>
            {mark && <span class="chip">{mark}</span>}
          </li>
        );
      })}
      {items.length === 0 && <li class="muted">no objects</li>}
    </ul>
  );
}

export function ConflictView(props: {
  mine: Annotation[];
  theirs: AnyRevision | null;
  image: PreviewImage;
  schema: SchemaDef;
  onResolve: (r: Resolution) => void;
}) {
  const masks = useRef(new MaskCache()).current;
  const theirs = (props.theirs?.annotations ?? []) as unknown as Annotation[];
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="conflict-title" data-testid="conflict">
      <div class="modal conflict">
        <h2 id="conflict-title">Someone saved this task while you were working</h2>
        <p class="muted">
          Revision {props.theirs?.number ?? 0} was saved after the one your work started from. Choose which
          version to keep; the other is not lost (theirs stays in the task history, yours in Undo and this
          browser).
        </p>
        <div class="conflict-panes">
          <section data-testid="conflict-mine">
            <h3>Yours · {plural(props.mine.length, "object")}</h3>
            <Preview items={props.mine} image={props.image} schema={props.schema} masks={masks} />
            <ItemList items={props.mine} other={theirs} />
          </section>
          <section data-testid="conflict-theirs">
            <h3>
              Theirs · revision {props.theirs?.number ?? 0} · {plural(theirs.length, "object")}
            </h3>
            <Preview items={theirs} image={props.image} schema={props.schema} masks={masks} />
            <ItemList items={theirs} other={props.mine} />
          </section>
        </div>
        <div class="modal-actions">
          <button class="btn" data-testid="keep-theirs" onClick={() => props.onResolve("theirs")}>
            Keep theirs
          </button>
          <button class="btn" data-testid="keep-both" onClick={() => props.onResolve("both")}>
            Keep both
          </button>
          <button class="btn primary" data-testid="keep-mine" onClick={() => props.onResolve("mine")}>
            Keep mine
          </button>
        </div>
      </div>
    </div>
  );
}

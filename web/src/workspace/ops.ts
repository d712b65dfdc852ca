/**
 * Editing commands on the selection, shared by the keyboard and the side panel: accept
 * suggestions, delete many, copy and paste, merge two polygons. Each is one undoable step.
 */
import type { Doc } from "./doc";
import { unionPolygons } from "./polyops";
import { accepted, suggestionsAbove } from "./suggestions";
import { translate } from "./tools/handles";
import type { ToolHost } from "./tools/host";
import { newId, type Annotation } from "./types";

/** Offset of each successive paste, image px. */
export const PASTE_STEP = 10;
const CLIPBOARD_KEY = "labelproof:clipboard";

/** Accept model suggestions (by id): same id, geometry and label, source "human". */
export function accept(doc: Doc, ids: Iterable<string>): number {
  const want = new Set(ids);
  const changed = doc.items.filter((a) => want.has(a.id) && a.source === "model" && !doc.locked.has(a.id)).map(accepted);
  doc.replaceMany(changed);
  return changed.length;
}

/** Accept every suggestion with a confidence of at least `threshold`. */
export function acceptAbove(doc: Doc, threshold: number): number {
  return accept(doc, suggestionsAbove(doc.items, threshold).map((a) => a.id));
}

/** Delete the selected objects that are not locked; returns how many. */
export function deleteSelected(doc: Doc): number {
  const ids = [...doc.selection].filter((id) => !doc.locked.has(id));
  doc.removeMany(ids);
  return ids.length;
}

interface Clip {
  items: Annotation[];
  pastes: number;
}
let clip: Clip | null = null;

/** Copy the selected objects (tags excluded) to this browser's clipboard. */
export function copySelection(doc: Doc): number {
  const items = doc.selectedItems().filter((a) => a.type !== "tag");
  if (!items.length) return 0;
  clip = { items: JSON.parse(JSON.stringify(items)), pastes: 0 };
  try {
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(items));
  } catch {
    // storage full or off: the in-page clipboard still works
  }
  return items.length;
}

function clipboard(): Clip | null {
  if (clip) return clip;
  try {
    const raw = localStorage.getItem(CLIPBOARD_KEY);
    if (raw) clip = { items: JSON.parse(raw) as Annotation[], pastes: 0 };
  } catch {
    clip = null;
  }
  return clip;
}

/**
 * Paste the clipboard: new ids, on top of the drawing order, moved by PASTE_STEP px more
 * at each paste (kept inside the image), made the annotator's (source "human"). Objects
 * whose class or type this schema does not allow, and masks of another image size, are
 * skipped with a notice. The pasted objects become the selection.
 */
export function paste(doc: Doc, host: ToolHost): number {
  const c = clipboard();
  if (!c || !c.items.length) {
    host.notify("nothing to paste: select objects and press Ctrl+C");
    return 0;
  }
  c.pastes += 1;
  const d = PASTE_STEP * c.pastes;
  let z = doc.items.reduce((m, a) => Math.max(m, a.z_order), -1) + 1;
  const out: Annotation[] = [];
  let skipped = 0;
  for (const { frame: _from, ...a } of c.items) {
    const cls = host.classOf(a.label);
    const sizeOk =
      a.type !== "mask" ||
      (a.geometry.rle.size[0] === host.imageHeight && a.geometry.rle.size[1] === host.imageWidth);
    if (!cls || !cls.types.includes(a.type) || !sizeOk) {
      skipped++;
      continue;
    }
    out.push({
      ...a,
      id: newId(),
      geometry: translate(a, d, d, host.imageWidth, host.imageHeight),
      source: "human",
      confidence: null,
      z_order: z++,
      ...(doc.frame !== null ? { frame: doc.frame } : {}), // onto the frame shown
    });
  }
  doc.addMany(out);
  if (skipped) host.notify(`${skipped} object(s) not pasted: this task's schema or image does not allow them`);
  return out.length;
}

/** Merge the two selected polygons into the first-drawn one's id; refuses with a notice. */
export function mergeSelected(doc: Doc, host: ToolHost): boolean {
  const sel = doc.selectedItems();
  if (sel.length !== 2 || sel.some((a) => a.type !== "polygon")) {
    host.notify("select exactly two polygons to merge (Shift+click the second)");
    return false;
  }
  if (sel.some((a) => doc.locked.has(a.id))) {
    host.notify("unlock both polygons to merge them");
    return false;
  }
  const [a, b] = sel;
  if (a.label !== b.label) {
    host.notify(`merge needs two polygons of the same class (${a.label} ≠ ${b.label})`);
    return false;
  }
  const r = unionPolygons(a.geometry, b.geometry);
  if (r.error !== undefined) {
    host.notify(`Merge refused: ${r.error}`);
    return false;
  }
  doc.commit(doc.items.filter((x) => x.id !== b.id).map((x) => (x.id === a.id ? { ...x, geometry: r.ok } : x)));
  doc.select(a.id);
  return true;
}

/**
 * Model pre-labels as suggestions. An annotation with `source: "model"` is a suggestion:
 * drawn dashed with its confidence until the annotator decides. Every decision keeps the
 * suggestion's `id`, so the revision history alone tells what happened to it:
 *
 * - accepted: the id survives with `source: "human"` and the same geometry, label and
 *   attributes (accept, A, or "accept all ≥ t");
 * - edited: the id survives with a changed geometry, label or attributes (any edit of a
 *   suggestion makes it the annotator's: `source: "human"`);
 * - deleted: the id is gone.
 *
 * Accepted and edited objects drop the model's confidence (null): it stays in the revision
 * that brought the suggestion, and a human object with a score would read as a prediction
 * in exports. docs/workspace.md gives the edit-rate computation over the history.
 */
import type { Annotation } from "./types";

/** True when the annotator-visible content (type, label, geometry, attributes) differs. */
export function contentChanged(a: Annotation, b: Annotation): boolean {
  return (
    a.type !== b.type ||
    a.label !== b.label ||
    JSON.stringify(a.geometry) !== JSON.stringify(b.geometry) ||
    JSON.stringify(a.attributes) !== JSON.stringify(b.attributes)
  );
}

/** The annotator's version of a suggestion (same id, geometry and label). */
export function accepted(a: Annotation): Annotation {
  return a.source === "model" ? { ...a, source: "human", confidence: null } : a;
}

/**
 * `next` with every model suggestion whose content changed from `before` made the
 * annotator's. Objects that are not suggestions, or that did not change, are kept as is.
 */
export function humanizeEdits(before: Map<string, Annotation>, next: Annotation[]): Annotation[] {
  let out: Annotation[] | null = null;
  for (let i = 0; i < next.length; i++) {
    const a = next[i];
    if (a.source !== "model") continue;
    const old = before.get(a.id);
    if (!old || old === a || old.source !== "model" || !contentChanged(old, a)) continue;
    out ??= next.slice();
    out[i] = accepted(a);
  }
  return out ?? next;
}

/** Model suggestions with a confidence of at least `threshold` (null confidence: never). */
export function suggestionsAbove(items: Annotation[], threshold: number): Annotation[] {
  return items.filter((a) => a.source === "model" && a.confidence !== null && a.confidence >= threshold);
}

/** A confidence as the workspace shows it: 0.873 -> "87%". */
export function confidenceText(c: number | null): string {
  return c === null ? "model" : `${Math.round(c * 100)}%`;
}

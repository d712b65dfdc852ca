/** The side panel: classes, image tags, the selected object's attributes, the object list. */
import type { Doc } from "./doc";
import type { Engine } from "./engine";
import { useState } from "preact/hooks";
import { EyeIcon, LockIcon } from "./icons";
import * as ops from "./ops";
import { confidenceText, suggestionsAbove } from "./suggestions";
import { defaultAttributes, newId, type Annotation, type AttrDef, type ClassDef } from "./types";

function AttrEditor({ defs, values, onChange, idPrefix }: { defs: AttrDef[]; values: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void; idPrefix: string }) {
  const set = (name: string, v: unknown) => {
    const next = { ...values };
    const required = defs.find((d) => d.name === name)?.required;
    if (v === undefined || (v === "" && !required)) delete next[name];
    else next[name] = v;
    onChange(next);
  };
  return (
    <div class="attrs">
      {defs.map((d) => {
        const id = `${idPrefix}-${d.name}`;
        const v = values[d.name];
        return (
          <div class="attr" key={d.name}>
            <label for={id}>
              {d.name}
              {d.required && <span class="req" title="required">*</span>}
            </label>
            {d.kind === "bool" && (
              <input id={id} type="checkbox" checked={v === true} onChange={(e) => set(d.name, (e.target as HTMLInputElement).checked)} />
            )}
            {d.kind === "select" && (
              <select id={id} value={(v as string) ?? ""} onChange={(e) => set(d.name, (e.target as HTMLSelectElement).value || undefined)}>
                {!d.required && <option value="">—</option>}
                {(d.options ?? []).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            )}
            {d.kind === "text" && (
              <input id={id} type="text" value={(v as string) ?? ""} onChange={(e) => set(d.name, (e.target as HTMLInputElement).value)} />
            )}
            {d.kind === "number" && (
              <input
                id={id}
                type="number"
                step="any"
                value={v === undefined ? "" : String(v)}
                onChange={(e) => {
                  const s = (e.target as HTMLInputElement).value;
                  set(d.name, s === "" ? undefined : Number(s));
                }}
              />
            )}
          </div>
        );
      })}
    </div>
  );
}

const VIS = ["not labelled", "occluded", "visible"];

function KeypointList({ a, cls, doc }: { a: Annotation; cls: ClassDef; doc: Doc }) {
  const names = cls.skeleton?.keypoints ?? [];
  const pts = a.geometry.points as number[][];
  const setVis = (i: number, v: number) => {
    const points = pts.map((p, k) => (k === i ? (v === 0 ? [0, 0, 0] : [p[0], p[1], v]) : p));
    doc.replace({ ...a, geometry: { points } });
  };
  return (
    <table class="kp-table">
      <tbody>
        {names.map((n, i) => (
          <tr key={n}>
            <td>{n}</td>
            <td>
              <select
                aria-label={`${n} visibility`}
                data-testid={`kp-vis-${i}`}
                value={String(pts[i]?.[2] ?? 0)}
                disabled={doc.locked.has(a.id)}
                onChange={(e) => setVis(i, Number((e.target as HTMLSelectElement).value))}
              >
                {VIS.map((label, v) => (
                  <option key={v} value={String(v)} disabled={v > 0 && pts[i]?.[2] === 0}>
                    {label}
                  </option>
                ))}
              </select>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Panel({ engine, doc }: { engine: Engine; doc: Doc }) {
  const classes = engine.schema.classes;
  const sel = doc.selected ? doc.get(doc.selected) : undefined;
  const selCls = sel ? engine.classOf(sel.label) : undefined;
  const tags = classes.filter((c) => c.types.includes("tag"));
  const drawable = classes.filter((c) => c.types.some((t) => t !== "tag"));
  const order = [...engine.ordered()].reverse().filter((a) => a.type !== "tag");
  const pending = doc.items.filter((a) => a.source === "model");
  const [threshold, setThreshold] = useState(engine.acceptThreshold);
  const many = doc.selection.size > 1 ? doc.selectedItems() : [];

  const toggleTag = (cls: ClassDef) => {
    const existing = doc.items.find((a) => a.type === "tag" && a.label === cls.name);
    if (existing) doc.remove(existing.id);
    else
      doc.commit([
        ...doc.items,
        { id: newId(), type: "tag", label: cls.name, geometry: {}, attributes: defaultAttributes(cls), source: "human", confidence: null, z_order: 0 },
      ]);
  };

  return (
    <aside class="panel">
      <section>
        <h4>Class</h4>
        <div class="class-list" role="radiogroup" aria-label="Class for new objects">
          {drawable.map((c) => {
            const n = classes.indexOf(c);
            const allowed = engine.tool.name === "select" || engine.tool.name === "split" || c.types.includes(engine.tool.name as never);
            return (
              <button
                key={c.name}
                role="radio"
                aria-checked={engine.label === c.name}
                class={`class-btn ${engine.label === c.name ? "active" : ""} ${allowed ? "" : "dim"}`}
                onClick={() => engine.setLabel(c.name)}
                title={`Allows: ${c.types.join(", ")}`}
                data-testid={`class-${c.name}`}
              >
                <span class="swatch" style={{ background: engine.color(c.name) }} />
                {c.name}
                <kbd>{n + 1}</kbd>
              </button>
            );
          })}
        </div>
      </section>

      {tags.length > 0 && (
        <section>
          <h4>Image tags</h4>
          {tags.map((c) => {
            const tag = doc.items.find((a) => a.type === "tag" && a.label === c.name);
            return (
              <div class="tag-row" key={c.name}>
                <label class="check">
                  <input type="checkbox" checked={!!tag} onChange={() => toggleTag(c)} data-testid={`tag-${c.name}`} />
                  <span class="swatch" style={{ background: engine.color(c.name) }} /> {c.name}
                </label>
                {tag && c.attributes?.length ? (
                  <AttrEditor idPrefix={`tag-${c.name}`} defs={c.attributes} values={tag.attributes} onChange={(v) => doc.replace({ ...tag, attributes: v })} />
                ) : null}
              </div>
            );
          })}
        </section>
      )}

      {pending.length > 0 && (
        <section data-testid="suggestions">
          <h4>
            Model suggestions <span class="muted">({pending.length} to review)</span>
          </h4>
          <p class="muted small">Dashed outlines. Accept (A), edit or delete each one.</p>
          <div class="row-actions">
            <label class="small" for="accept-threshold">
              Accept all ≥
            </label>
            <input
              id="accept-threshold"
              data-testid="accept-threshold"
              type="number"
              min="0"
              max="1"
              step="0.05"
              value={threshold}
              style={{ width: "4.5em" }}
              onInput={(e) => {
                const v = Number((e.target as HTMLInputElement).value);
                if (Number.isFinite(v)) {
                  setThreshold(v);
                  engine.acceptThreshold = v;
                }
              }}
            />
            <button
              class="btn small"
              data-testid="accept-above"
              title="Accept every suggestion at or above this confidence (Shift+A)"
              onClick={() => {
                const n = ops.acceptAbove(doc, threshold);
                engine.notify(`Accepted ${n} suggestion${n === 1 ? "" : "s"} ≥ ${threshold}`);
              }}
            >
              Accept {suggestionsAbove(doc.items, threshold).length}
            </button>
          </div>
        </section>
      )}

      <section data-testid="selected-panel">
        <h4>Selected{many.length ? ` (${many.length})` : ""}</h4>
        {!sel && <p class="muted small">Nothing selected. Click an object or pick one below.</p>}
        {many.length > 0 && (
          <div class="row-actions" data-testid="multi-actions">
            {many.some((a) => a.source === "model") && (
              <button class="btn small" onClick={() => ops.accept(doc, doc.selection)} title="Accept the selected suggestions (A)">
                Accept
              </button>
            )}
            {many.length === 2 && many.every((a) => a.type === "polygon") && (
              <button class="btn small" data-testid="merge" onClick={() => ops.mergeSelected(doc, engine)} title="Merge the two polygons (U)">
                Merge
              </button>
            )}
            <button class="btn small" onClick={() => ops.copySelection(doc)} title="Copy (Ctrl+C)">
              Copy
            </button>
            <button class="btn small danger" onClick={() => ops.deleteSelected(doc)} title="Delete (Delete)">
              Delete {many.length}
            </button>
          </div>
        )}
        {sel && many.length === 0 && (
          <div>
            <div class="sel-head">
              <select
                aria-label="Class of the selected object"
                value={sel.label}
                disabled={doc.locked.has(sel.id)}
                onChange={(e) => {
                  const label = (e.target as HTMLSelectElement).value;
                  doc.replace({ ...sel, label, attributes: defaultAttributes(engine.classOf(label)) });
                }}
              >
                {classes
                  .filter((c) => c.types.includes(sel.type) && (sel.type !== "keypoints" || c.name === sel.label))
                  .map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.name}
                    </option>
                  ))}
              </select>
              <span class="chip">{sel.type.replace("_", " ")}</span>
              {sel.source === "model" && (
                <span class="chip chip-model" data-testid="suggestion-chip" title="A model suggestion: accept, edit or delete it">
                  suggestion {confidenceText(sel.confidence)}
                </span>
              )}
            </div>
            {(sel.source === "model" || sel.type === "polygon") && !doc.locked.has(sel.id) && (
              <div class="row-actions">
                {sel.source === "model" && (
                  <button class="btn small primary" data-testid="accept" title="Accept the suggestion as it is (A)" onClick={() => ops.accept(doc, [sel.id])}>
                    Accept
                  </button>
                )}
                {sel.type === "polygon" && (
                  <>
                    <button class="btn small" data-testid="draw-hole" title="Draw a hole in this polygon (O)" onClick={() => engine.startHole()}>
                      Hole
                    </button>
                    <button class="btn small" data-testid="split" title="Cut this polygon with a line (X)" onClick={() => engine.startSplit()}>
                      Split
                    </button>
                  </>
                )}
              </div>
            )}
            <div class="row-actions">
              <button class="btn small" onClick={() => doc.toggleHidden(sel.id)}>{doc.hidden.has(sel.id) ? "Show" : "Hide"}</button>
              <button class="btn small" onClick={() => doc.toggleLocked(sel.id)}>{doc.locked.has(sel.id) ? "Unlock" : "Lock"}</button>
              <button class="btn small" title="Bring forward (PageUp)" onClick={() => doc.restack(sel.id, 1)}>Forward</button>
              <button class="btn small" title="Send backward (PageDown)" onClick={() => doc.restack(sel.id, -1)}>Backward</button>
              <button class="btn small danger" disabled={doc.locked.has(sel.id)} onClick={() => doc.remove(sel.id)}>Delete</button>
            </div>
            {selCls?.attributes?.length ? (
              <AttrEditor idPrefix="sel" defs={selCls.attributes} values={sel.attributes} onChange={(v) => doc.replace({ ...sel, attributes: v })} />
            ) : null}
            {sel.type === "keypoints" && selCls && <KeypointList a={sel} cls={selCls} doc={doc} />}
          </div>
        )}
      </section>

      <section class="objects">
        <h4>
          Objects <span class="muted">({order.length})</span>
          {doc.hidden.size > 0 && (
            <button class="link" onClick={() => doc.showAll()}>
              show all
            </button>
          )}
        </h4>
        <ul class="object-list" data-testid="object-list">
          {order.slice(0, 500).map((a) => (
            <li
              key={a.id}
              class={`${doc.selection.has(a.id) ? "active" : ""} ${a.source === "model" ? "model" : ""}`}
              onClick={(e) =>
                doc.offFrame(a.id) ? doc.showFrameOf(a.id) : e.shiftKey ? doc.toggleSelect(a.id) : doc.select(a.id)
              }
              data-testid="object-row"
              data-source={a.source}
              data-frame={doc.frame === null || a.type === "tag" ? undefined : (a.frame ?? 0) + 1}
            >
              <span class={`swatch ${a.source === "model" ? "dashed" : ""}`} style={{ background: engine.color(a.label), borderColor: engine.color(a.label) }} />
              <span class="obj-label">{a.label}</span>
              <span class="muted small">{a.type.replace("_", " ")}</span>
              {a.source === "model" && <span class="conf small">{confidenceText(a.confidence)}</span>}
              <span class="spacer" />
              {doc.offFrame(a.id) ? (
                <button
                  class="btn small frame-jump"
                  title={`Drawn on frame ${(a.frame ?? 0) + 1}: show it`}
                  data-testid="frame-jump"
                  onClick={(e) => {
                    e.stopPropagation();
                    doc.showFrameOf(a.id);
                  }}
                >
                  frame {(a.frame ?? 0) + 1}
                </button>
              ) : (
              <button
                class={`icon ${doc.hidden.has(a.id) ? "off" : ""}`}
                title={doc.hidden.has(a.id) ? "Show" : "Hide"}
                aria-label={doc.hidden.has(a.id) ? "Show" : "Hide"}
                onClick={(e) => {
                  e.stopPropagation();
                  doc.toggleHidden(a.id);
                }}
              >
                <EyeIcon off={doc.hidden.has(a.id)} />
              </button>
              )}
              <button
                class={`icon ${doc.locked.has(a.id) ? "on" : ""}`}
                title={doc.locked.has(a.id) ? "Unlock" : "Lock"}
                aria-label={doc.locked.has(a.id) ? "Unlock" : "Lock"}
                onClick={(e) => {
                  e.stopPropagation();
                  doc.toggleLocked(a.id);
                }}
              >
                <LockIcon on={doc.locked.has(a.id)} />
              </button>
            </li>
          ))}
          {order.length > 500 && <li class="muted small">… and {order.length - 500} more</li>}
        </ul>
      </section>
    </aside>
  );
}

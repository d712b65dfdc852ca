/**
 * The drawing surface shared by every page that shows one image with its annotations:
 * the tool bar, the canvas engine, the side panel, autosave to a revision stream (a task's
 * or a QA assignment's) and the conflict view. Pages add their own side content (submit,
 * review verdicts) through `side` and reach the engine and document through `onReady`.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { attachDicom, DicomBar } from "../dicom/controls";
import { Autosaver, readDraft, toWire, type AnyRevision, type Conflict, type SaveStatus, type SaveTarget } from "./autosave";
import { ConflictView, mergeBoth, type Resolution } from "./conflict";
import { Doc } from "./doc";
import { Engine, type EngineState } from "./engine";
import { HelpOverlay } from "./help";
import { ActionIcon, ToolIcon } from "./icons";
import { MaskCache } from "./masks";
import * as ops from "./ops";
import * as polyops from "./polyops";
import * as rle from "./rle";
import { Panel } from "./panel";
import type { ImageSource } from "./source";
import { TileLayer } from "./tiles";
import type { ToolName } from "./tools/host";
import { newId, type Annotation, type SchemaDef } from "./types";

export interface WorkspaceData {
  source: ImageSource;
  schema: SchemaDef;
  /** The revision loaded (null: nothing saved yet). */
  revision: AnyRevision | null;
  /** Where edits autosave; null: they stay in this page (a reviewer preparing a fix). */
  target: SaveTarget | null;
}

export interface WorkspaceHandle {
  engine: Engine;
  doc: Doc;
  saver: Autosaver | null;
}

const TOOLS: [ToolName, string, string][] = [
  ["select", "Select / edit", "V"],
  ["box", "Box", "B"],
  ["rotated_box", "Rotated box", "R"],
  ["polygon", "Polygon", "P"],
  ["polyline", "Polyline", "L"],
  ["keypoints", "Keypoints", "K"],
  ["mask", "Mask brush", "M"],
  ["cuboid", "Cuboid", "C"],
];
const TOOL_KEYS: Record<string, ToolName> = Object.fromEntries(TOOLS.map(([n, , k]) => [k.toLowerCase(), n]));
/** Polygon operations on the selection: toolbar buttons with the same keys (O, X, U). */
const POLY_ACTIONS: ["hole" | "split" | "merge", string, string, number][] = [
  ["hole", "Cut a hole in the selected polygon", "O", 1],
  ["split", "Split the selected polygon with a line", "X", 1],
  ["merge", "Merge the two selected polygons", "U", 2],
];

const sameItems = (a: Annotation[], b: Annotation[]) => JSON.stringify(a.map(toWire)) === JSON.stringify(b.map(toWire));

function statusText(s: SaveStatus | null): string {
  if (!s) return "";
  switch (s.state) {
    case "saved":
      return s.revision ? `Saved · revision ${s.revision}` : "No annotations saved yet";
    case "dirty":
      return "Unsaved changes…";
    case "saving":
      return "Saving…";
    case "retrying":
      return `Not saved: ${s.message}`;
    case "conflict":
      return "Conflict: choose a version";
    case "error":
      return `Not saved: ${s.message}`;
  }
}

export function Workspace({
  data,
  onReady,
  side,
  localNote = "Edits are kept in this page until you send them",
}: {
  data: WorkspaceData;
  onReady?: (h: WorkspaceHandle | null) => void;
  side?: ComponentChildren;
  localNote?: string;
}) {
  const stage = useRef<HTMLDivElement>(null);
  const masks = useMemo(() => new MaskCache(), []);
  const doc = useMemo(() => {
    const d = new Doc({ width: data.source.width, height: data.source.height }, (a) => masks.bounds(a));
    d.load((data.revision?.annotations ?? []) as unknown as Annotation[]);
    return d;
  }, [data]);
  const [engine, setEngine] = useState<Engine | null>(null);
  const [saver, setSaver] = useState<Autosaver | null>(null);
  const [es, setEs] = useState<EngineState | null>(null);
  const [save, setSave] = useState<SaveStatus | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [, setTick] = useState(0);

  useEffect(() => {
    const layer = data.source.layer;
    const eng = new Engine(stage.current!, layer, doc, data.schema, masks);
    if (layer instanceof TileLayer) layer.onTile = () => eng.request("image");
    const dicom = data.source.dicom;
    const detachDicom = dicom ? attachDicom(dicom, eng, doc) : null;
    const target = data.target;
    const sv = target ? new Autosaver(target, doc, data.revision?.number ?? 0, setSave, setConflict) : null;
    let noticeTimer = 0;
    eng.onNotice((m) => {
      setNotice(m);
      clearTimeout(noticeTimer);
      noticeTimer = window.setTimeout(() => setNotice(null), 4000);
    });
    eng.onState(setEs);
    const off = doc.on(() => setTick((t) => t + 1));
    const draft = target && sv ? readDraft(target.draftId) : null;
    const current = (data.revision?.annotations ?? []) as unknown as Annotation[];
    if (sv && draft && !sameItems(draft.annotations, current)) {
      if (draft.base === (data.revision?.number ?? 0)) {
        doc.load(draft.annotations);
        sv.markDirty();
        eng.notify("Restored your unsaved work from this browser");
      } else {
        sv.markDirty();
        setSave({ state: "conflict", revision: sv.revision, message: "", field: null, savedAt: null });
        setConflict({ mine: draft.annotations, theirs: data.revision });
      }
    }
    setEngine(eng);
    setSaver(sv);
    if (sv) setSave((prev) => prev ?? sv.current());
    setEs(eng.state());
    const w = window as unknown as Record<string, unknown>;
    w.__labelproof = { engine: eng, doc, saver: sv, rle, polyops, ops, dicom };
    onReady?.({ engine: eng, doc, saver: sv });
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (sv?.dirty) {
        sv.writeDraft();
        e.preventDefault();
      }
    };
    window.addEventListener("beforeunload", beforeUnload);
    return () => {
      if (sv?.dirty) sv.writeDraft();
      window.removeEventListener("beforeunload", beforeUnload);
      detachDicom?.();
      off();
      sv?.destroy();
      eng.destroy();
      onReady?.(null);
      delete w.__labelproof;
    };
  }, [data]);

  useEffect(() => {
    if (!engine) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
      if (conflict) return;
      if (e.type === "keyup") {
        if (e.key === " ") engine.key(e);
        return;
      }
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      const sel = doc.selected;
      let used = true;
      if (mod && k === "z" && !e.shiftKey) doc.undo();
      else if ((mod && k === "z" && e.shiftKey) || (mod && k === "y")) doc.redo();
      else if (mod && k === "s") void saver?.saveNow();
      else if (mod && k === "c") {
        const n = ops.copySelection(doc);
        if (n) engine.notify(`Copied ${n} object${n > 1 ? "s" : ""}`);
      } else if (mod && k === "v") ops.paste(doc, engine);
      else if (mod && k === "a")
        doc.setSelection(doc.items.filter((a) => a.type !== "tag" && !doc.hidden.has(a.id) && !doc.locked.has(a.id)).map((a) => a.id));
      else if (mod) used = false;
      else if (e.key === "?") setHelp((h) => !h);
      else if (engine.key(e)) used = true;
      else if ((e.key === "Delete" || e.key === "Backspace") && doc.selection.size) ops.deleteSelected(doc);
      else if (k === "a" && e.shiftKey) {
        const n = ops.acceptAbove(doc, engine.acceptThreshold);
        engine.notify(`Accepted ${n} suggestion${n === 1 ? "" : "s"} ≥ ${engine.acceptThreshold}`);
      } else if (k === "a" && doc.selection.size) ops.accept(doc, doc.selection);
      else if (k === "o") engine.startHole();
      else if (k === "x") engine.startSplit();
      else if (k === "u") ops.mergeSelected(doc, engine);
      else if (k === "h" && e.shiftKey) doc.showAll();
      else if (k === "h" && sel) doc.toggleHidden(sel);
      else if (k === "l" && e.shiftKey && sel) doc.toggleLocked(sel);
      else if (e.key === "PageUp" && sel) doc.restack(sel, 1);
      else if (e.key === "PageDown" && sel) doc.restack(sel, -1);
      else if (k === "f") engine.fit();
      else if (e.key.startsWith("Arrow")) {
        const d = e.shiftKey ? 200 : 40;
        engine.panBy(e.key === "ArrowLeft" ? d : e.key === "ArrowRight" ? -d : 0, e.key === "ArrowUp" ? d : e.key === "ArrowDown" ? -d : 0);
      } else if (/^[1-9]$/.test(e.key)) {
        const drawable = data.schema.classes;
        const c = drawable[Number(e.key) - 1];
        if (c && c.types.some((t) => t !== "tag")) engine.setLabel(c.name);
      } else if (!e.shiftKey && TOOL_KEYS[k]) engine.setTool(TOOL_KEYS[k]);
      else used = false;
      if (used) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("keyup", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("keyup", onKey);
    };
  }, [engine, saver, conflict]);

  // A rejected save names the object at fault (annotations[i]...): select it.
  useEffect(() => {
    const m = save?.state === "error" ? /^annotations\[(\d+)\]/.exec(save.field ?? "") : null;
    const a = m ? doc.items[Number(m[1])] : undefined;
    if (a) doc.select(a.id);
  }, [save]);

  const resolve = (r: Resolution) => {
    if (!conflict || !saver) return;
    const theirs = (conflict.theirs?.annotations ?? []) as unknown as Annotation[];
    const base = conflict.theirs?.number ?? 0;
    const mine = conflict.mine;
    if (r === "theirs") {
      saver.stashDiscarded(mine, `replaced by revision ${base}`);
      doc.load(theirs, true);
      saver.resolved(base, false);
    } else if (r === "mine") {
      doc.load(mine, true);
      saver.resolved(base, true);
    } else {
      doc.load(mergeBoth(mine, theirs, newId), true);
      saver.resolved(base, true);
    }
    setConflict(null);
  };

  const tool = es?.tool ?? "select";
  return (
    <div class="ws-body">
      <nav class="toolbar" aria-label="Tools">
        {TOOLS.map(([name, title, key]) => (
          <button
            key={name}
            class={`tool ${tool === name ? "active" : ""}`}
            title={`${title} (${key})`}
            aria-label={title}
            aria-pressed={tool === name}
            data-tool={name}
            onClick={() => engine?.setTool(name)}
          >
            <ToolIcon name={name} />
            <span class="tool-key">{key}</span>
          </button>
        ))}
        <div class="tool-sep" style={{ width: "28px", borderTop: "1px solid var(--line)", margin: "2px 0" }} />
        {POLY_ACTIONS.map(([name, title, key, need]) => {
          const polys = [...doc.selection].filter((id) => doc.get(id)?.type === "polygon").length;
          const ready = polys === need && doc.selection.size === need;
          const active = (name === "split" && tool === "split") || (name === "hole" && tool === "polygon" && !!es?.hint.startsWith("Hole"));
          return (
            <button
              key={name}
              class={`tool ${active ? "active" : ""}`}
              title={`${title} (${key})${ready ? "" : ` · select ${need === 1 ? "one polygon" : "two polygons"} first`}`}
              aria-label={title}
              aria-pressed={active}
              data-action={name}
              disabled={!engine || !ready}
              onClick={() => {
                if (!engine) return;
                if (name === "hole") engine.startHole();
                else if (name === "split") engine.startSplit();
                else ops.mergeSelected(doc, engine);
                stage.current?.focus({ preventScroll: true });
              }}
            >
              <ActionIcon name={name} />
              <span class="tool-key">{key}</span>
            </button>
          );
        })}
        <div class="spacer" />
        <button class="tool" title="Undo (Ctrl+Z)" aria-label="Undo" disabled={!doc.canUndo} onClick={() => doc.undo()}>
          ↶
        </button>
        <button class="tool" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" disabled={!doc.canRedo} onClick={() => doc.redo()}>
          ↷
        </button>
        <button class="tool" title="Fit (F)" aria-label="Fit" onClick={() => engine?.fit()}>
          ⤢
        </button>
        <button class="tool" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" onClick={() => setHelp(true)}>
          ?
        </button>
      </nav>
      <div class="stage-wrap">
        {data.source.dicom && <DicomBar stack={data.source.dicom} />}
        <div class="stage" ref={stage} data-testid="stage" tabIndex={-1} />
        {notice && (
          <div class="toast" role="status">
            {notice}
          </div>
        )}
        <footer class="statusbar">
          {saver ? (
            <span class={`save save-${save?.state ?? "saved"}`} data-testid="save-status" data-state={save?.state ?? "saved"} data-revision={save?.revision ?? 0}>
              {statusText(save)}
            </span>
          ) : (
            <span class="save save-dirty" data-testid="save-status" data-state="local">
              {localNote}
            </span>
          )}
          {save?.state === "error" || save?.state === "retrying" ? (
            <button class="btn small" onClick={() => void saver?.saveNow()}>
              Retry now
            </button>
          ) : null}
          <span class="hint">{es?.hint}</span>
          <span class="spacer" />
          <span class="muted small">{es?.cursor ? `x ${es.cursor[0].toFixed(1)}  y ${es.cursor[1].toFixed(1)}` : ""}</span>
          <span class="muted small zoom">{es ? `${Math.round(es.zoom * 100)}%` : ""}</span>
        </footer>
      </div>
      {side && <aside class="side-extra">{side}</aside>}
      {engine && <Panel engine={engine} doc={doc} />}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {conflict && <ConflictView mine={conflict.mine} theirs={conflict.theirs} image={data.source.preview} schema={data.schema} onResolve={resolve} />}
    </div>
  );
}

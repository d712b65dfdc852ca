/** The annotation workspace page: loads a task, then wires the engine, panel and autosave. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api, call, contentUrl, type Asset, type Revision, type Task, type User } from "../api/client";
import { navigate } from "../router";
import { Autosaver, readDraft, toWire, type Conflict, type SaveStatus } from "./autosave";
import { ConflictView, mergeBoth, type Resolution } from "./conflict";
import { Doc } from "./doc";
import { Engine, PlainImage, type EngineState } from "./engine";
import { HelpOverlay } from "./help";
import { ToolIcon } from "./icons";
import { MaskCache } from "./masks";
import * as rle from "./rle";
import { Panel } from "./panel";
import type { ToolName } from "./tools/host";
import { newId, type Annotation, type SchemaDef } from "./types";

interface Loaded {
  task: Task;
  asset: Asset;
  schema: SchemaDef;
  revision: Revision | null;
  image: HTMLImageElement;
  taskIds: number[];
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

async function load(projectId: number, taskId: number): Promise<Loaded> {
  const task = await call(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId } } }));
  const [asset, schemas, tasks] = await Promise.all([
    call(api.GET("/api/projects/{project_id}/assets/{asset_id}", { params: { path: { project_id: projectId, asset_id: task.asset_id } } })),
    call(api.GET("/api/projects/{project_id}/schemas", { params: { path: { project_id: projectId } } })),
    call(api.GET("/api/projects/{project_id}/tasks", { params: { path: { project_id: projectId }, query: { limit: 1000 } } })),
  ]);
  let revision: Revision | null = null;
  try {
    revision = await call(api.GET("/api/tasks/{task_id}/annotations", { params: { path: { task_id: taskId } } }));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const image = new Image();
  image.src = contentUrl(projectId, task.asset_id);
  await image.decode();
  const latest = schemas[schemas.length - 1];
  return {
    task,
    asset,
    schema: (latest?.definition ?? { classes: [] }) as unknown as SchemaDef,
    revision,
    image,
    taskIds: tasks.items.map((t) => t.id),
  };
}

const sameItems = (a: Annotation[], b: Annotation[]) => JSON.stringify(a.map(toWire)) === JSON.stringify(b.map(toWire));

export function WorkspacePage({ projectId, taskId, user }: { projectId: number; taskId: number; user: User }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    load(projectId, taskId).then(setData, (e: Error) => setError(e.message));
  }, [projectId, taskId]);

  return (
    <div class="workspace">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo" aria-hidden="true">◆</span> labelproof
        </a>
        <nav class="crumbs">
          <a href="#/projects">Projects</a> / <a href={`#/projects/${projectId}`}>Project {projectId}</a> /{" "}
          <span>
            Task {taskId}
            {data ? ` · ${data.asset.filename} (${data.asset.width}×${data.asset.height})` : ""}
          </span>
        </nav>
        <div class="spacer" />
        {data && <TaskNav ids={data.taskIds} taskId={taskId} projectId={projectId} />}
        <span class="who">{user.display_name || user.email}</span>
      </header>
      {error && <div class="alert error page-error">{error}</div>}
      {!data && !error && <div class="splash">Loading task…</div>}
      {data && <Workspace data={data} />}
    </div>
  );
}

function TaskNav({ ids, taskId, projectId }: { ids: number[]; taskId: number; projectId: number }) {
  const i = ids.indexOf(taskId);
  const go = (j: number) => navigate(`/projects/${projectId}/tasks/${ids[j]}`);
  return (
    <div class="task-nav">
      <button class="btn ghost small" disabled={i <= 0} onClick={() => go(i - 1)} title="Previous task">
        ‹ Prev
      </button>
      <span class="muted small">
        {i + 1} / {ids.length}
      </span>
      <button class="btn ghost small" disabled={i < 0 || i >= ids.length - 1} onClick={() => go(i + 1)} title="Next task">
        Next ›
      </button>
    </div>
  );
}

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

function Workspace({ data }: { data: Loaded }) {
  const stage = useRef<HTMLDivElement>(null);
  const masks = useMemo(() => new MaskCache(), []);
  const doc = useMemo(() => {
    const d = new Doc({ width: data.image.naturalWidth, height: data.image.naturalHeight }, (a) => masks.bounds(a));
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
    const eng = new Engine(stage.current!, new PlainImage(data.image), doc, data.schema, masks);
    const sv = new Autosaver(data.task.id, doc, data.revision?.number ?? 0, setSave, setConflict);
    let noticeTimer = 0;
    eng.onNotice((m) => {
      setNotice(m);
      clearTimeout(noticeTimer);
      noticeTimer = window.setTimeout(() => setNotice(null), 4000);
    });
    eng.onState(setEs);
    const off = doc.on(() => setTick((t) => t + 1));
    const draft = readDraft(data.task.id);
    const current = (data.revision?.annotations ?? []) as unknown as Annotation[];
    if (draft && !sameItems(draft.annotations, current)) {
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
    setSave((prev) => prev ?? sv.current());
    setEs(eng.state());
    const w = window as unknown as Record<string, unknown>;
    w.__labelproof = { engine: eng, doc, saver: sv, rle };
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (sv.dirty) {
        sv.writeDraft();
        e.preventDefault();
      }
    };
    window.addEventListener("beforeunload", beforeUnload);
    return () => {
      if (sv.dirty) sv.writeDraft();
      window.removeEventListener("beforeunload", beforeUnload);
      off();
      sv.destroy();
      eng.destroy();
      delete w.__labelproof;
    };
  }, [data]);

  useEffect(() => {
    if (!engine || !saver) return;
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
      else if (mod && k === "s") void saver.saveNow();
      else if (mod) used = false;
      else if (e.key === "?") setHelp((h) => !h);
      else if (engine.key(e)) used = true;
      else if ((e.key === "Delete" || e.key === "Backspace") && sel && !doc.locked.has(sel)) doc.remove(sel);
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
        <div class="stage" ref={stage} data-testid="stage" tabIndex={-1} />
        {notice && (
          <div class="toast" role="status">
            {notice}
          </div>
        )}
        <footer class="statusbar">
          <span class={`save save-${save?.state ?? "saved"}`} data-testid="save-status" data-state={save?.state ?? "saved"} data-revision={save?.revision ?? 0}>
            {statusText(save)}
          </span>
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
      {engine && <Panel engine={engine} doc={doc} />}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {conflict && <ConflictView mine={conflict.mine} theirs={conflict.theirs} image={data.image} schema={data.schema} onResolve={resolve} />}
    </div>
  );
}

/**
 * One of my assignments in the workspace: annotations autosave to the assignment's own
 * revision stream; submit after ticking every item of the SOP's self-check checklist;
 * flag a question (with its class and, optionally, the selected object's region) to a lead.
 * The page shows nothing that tells a gold task from any other.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, call, type Assignment, type Escalation, type QaRevision, type Sop, type User } from "../../api/client";
import { navigate } from "../../router";
import { assignmentTarget } from "../../workspace/autosave";
import { latestSchema } from "../../workspace/page";
import { openImage } from "../../workspace/source";
import { Workspace, type WorkspaceData, type WorkspaceHandle } from "../../workspace/workspace";
import { Dialog, STATUS_TEXT, errText, regionOf, regionText, type Region } from "./common";

interface Loaded extends WorkspaceData {
  assignment: Assignment;
  sop: Sop | null;
}

const EDITABLE = new Set(["annotating", "rework"]);

async function load(projectId: number, assignmentId: number): Promise<Loaded> {
  const path = { path: { assignment_id: assignmentId } };
  const assignment = await call(api.GET("/api/qa/assignments/{assignment_id}", { params: path }));
  const [schema, source] = await Promise.all([
    latestSchema(projectId),
    openImage(projectId, { id: assignment.asset_id, width: assignment.width, height: assignment.height }),
  ]);
  let revision: QaRevision | null = null;
  try {
    revision = await call(api.GET("/api/qa/assignments/{assignment_id}/annotations", { params: path }));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  let sop: Sop | null = null;
  try {
    sop = await call(api.GET("/api/projects/{project_id}/qa/sop", { params: { path: { project_id: projectId } } }));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const target = EDITABLE.has(assignment.status) ? assignmentTarget(assignmentId) : null;
  return { assignment, sop, schema, source, revision, target };
}

export function AssignmentPage({ projectId, assignmentId, user }: { projectId: number; assignmentId: number; user: User }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ws, setWs] = useState<WorkspaceHandle | null>(null);
  useEffect(() => {
    load(projectId, assignmentId).then(setData, (e) => setError(errText(e)));
  }, [projectId, assignmentId]);
  const a = data?.assignment;
  return (
    <div class="workspace">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo" aria-hidden="true">◆</span> labelproof
        </a>
        <nav class="crumbs">
          <a href="#/projects">Projects</a> / <a href={`#/projects/${projectId}`}>Project {projectId}</a> /{" "}
          <a href={`#/projects/${projectId}/queue`}>My queue</a> /{" "}
          <span>
            Assignment {assignmentId}
            {a ? ` · ${a.width}×${a.height}` : ""}
          </span>
        </nav>
        <div class="spacer" />
        <span class="who">{user.display_name || user.email}</span>
      </header>
      {error && <div class="alert error page-error">{error}</div>}
      {!data && !error && <div class="splash">Loading assignment…</div>}
      {data && (
        <Workspace
          data={data}
          onReady={setWs}
          localNote="Read only: this work has been submitted"
          side={<AssignmentSide projectId={projectId} data={data} ws={ws} />}
        />
      )}
    </div>
  );
}

function AssignmentSide({ projectId, data, ws }: { projectId: number; data: Loaded; ws: WorkspaceHandle | null }) {
  const a = data.assignment;
  const [dialog, setDialog] = useState<"submit" | "flag" | null>(null);
  const [mine, setMine] = useState<Escalation[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const editable = EDITABLE.has(a.status);

  const refresh = () =>
    call(api.GET("/api/projects/{project_id}/qa/escalations", { params: { path: { project_id: projectId } } })).then(
      (all) => setMine(all.filter((e) => e.assignment_id === a.id || (e.assignment_id === null && e.task_id === a.task_id))),
      () => setMine([]),
    );
  useEffect(() => {
    void refresh();
  }, [a.id]);

  return (
    <div class="qa-side" data-testid="assignment-side">
      <section>
        <h4>Assignment {a.id}</h4>
        <span class={`chip status-${a.status}`} data-testid="assignment-status">
          {STATUS_TEXT[a.status] ?? a.status}
        </span>
        {a.status === "rework" && <p class="small warn-text">A reviewer returned this work: check it against the guidelines, fix it and submit again.</p>}
        {data.sop && (
          <details class="sop-inline">
            <summary>Guidelines · SOP v{data.sop.version}</summary>
            <div class="sop-text small">{data.sop.guidelines}</div>
          </details>
        )}
      </section>
      <section class="qa-buttons">
        <button class="btn primary" disabled={!editable || !ws?.saver} onClick={() => setDialog("submit")} data-testid="open-submit">
          Submit…
        </button>
        <button class="btn" onClick={() => setDialog("flag")} data-testid="open-flag">
          Flag a question…
        </button>
        {note && (
          <p class="small ok-text" role="status">
            {note}
          </p>
        )}
      </section>
      {mine.length > 0 && (
        <section>
          <h4>Questions on this task</h4>
          <ul class="esc-mini">
            {mine.map((e) => (
              <li key={e.id} data-testid="my-escalation">
                <div>{e.question}</div>
                {e.answer ? (
                  <div class="small ok-text">
                    Answer: {e.answer}
                    {e.published_sop_version ? ` (SOP v${e.published_sop_version})` : ""}
                  </div>
                ) : (
                  <div class="small muted">Waiting for a lead</div>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {dialog === "submit" && ws?.saver && (
        <SubmitDialog
          data={data}
          ws={ws}
          onClose={() => setDialog(null)}
          onDone={() => navigate(`/projects/${projectId}/queue`)}
        />
      )}
      {dialog === "flag" && ws && (
        <FlagDialog
          projectId={projectId}
          data={data}
          ws={ws}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            setNote("Question sent to the team lead.");
            void refresh();
          }}
        />
      )}
    </div>
  );
}

function SubmitDialog({ data, ws, onClose, onDone }: { data: Loaded; ws: WorkspaceHandle; onClose: () => void; onDone: () => void }) {
  const items = data.sop?.checklist ?? [];
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const all = items.every((i) => ticked.has(i.id));
  const toggle = (id: string) => {
    const next = new Set(ticked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setTicked(next);
  };
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const revision = await ws.saver!.flush();
      await call(
        api.POST("/api/qa/assignments/{assignment_id}/submit", {
          params: { path: { assignment_id: data.assignment.id } },
          body: { revision, checklist: items.map((i) => i.id) },
        }),
      );
      onDone();
    } catch (e) {
      setError(errText(e));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Self-check before you submit" onClose={onClose} testid="submit-dialog">
      <p class="muted small">
        {ws.doc.items.length} object{ws.doc.items.length === 1 ? "" : "s"}. Tick every item of the SOP
        {data.sop ? ` v${data.sop.version}` : ""} checklist to submit.
      </p>
      {items.length === 0 && <p class="muted">This SOP has no checklist.</p>}
      <div class="checklist">
        {items.map((i) => (
          <label class="check" key={i.id}>
            <input type="checkbox" checked={ticked.has(i.id)} onChange={() => toggle(i.id)} data-testid={`check-${i.id}`} />
            {i.text}
          </label>
        ))}
      </div>
      {error && (
        <div class="alert error" role="alert">
          {error}
        </div>
      )}
      <div class="modal-actions">
        <button class="btn" onClick={onClose}>
          Keep working
        </button>
        <button class="btn primary" disabled={!all || busy} onClick={submit} data-testid="submit">
          {busy ? "Submitting…" : "Submit"}
        </button>
      </div>
    </Dialog>
  );
}

function FlagDialog({ projectId, data, ws, onClose, onDone }: { projectId: number; data: Loaded; ws: WorkspaceHandle; onClose: () => void; onDone: () => void }) {
  const selected = ws.doc.selected ? ws.doc.get(ws.doc.selected) : undefined;
  const [question, setQuestion] = useState("");
  const [label, setLabel] = useState(selected?.label ?? ws.engine.label ?? "");
  const [attach, setAttach] = useState(!!selected);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const region: Region | null = selected ? regionOf(ws.doc, selected.id) : null;
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(
        api.POST("/api/projects/{project_id}/qa/escalations", {
          params: { path: { project_id: projectId } },
          body: {
            question,
            assignment_id: data.assignment.id,
            label: label || null,
            annotation_id: attach && selected ? selected.id : null,
            region: attach ? region : null,
          },
        }),
      );
      onDone();
    } catch (e) {
      setError(errText(e));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Flag a question for a lead" onClose={onClose} testid="flag-dialog">
      <label>
        Question
        <textarea rows={4} value={question} onInput={(e) => setQuestion((e.target as HTMLTextAreaElement).value)} data-testid="flag-question" />
      </label>
      <label>
        Class
        <select value={label} onChange={(e) => setLabel((e.target as HTMLSelectElement).value)} data-testid="flag-class">
          <option value="">— none —</option>
          {data.schema.classes.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={attach} disabled={!selected} onChange={(e) => setAttach((e.target as HTMLInputElement).checked)} data-testid="flag-attach" />
        {selected ? `Attach the selected ${selected.label} (${regionText(region)})` : "Select an object first to attach its region"}
      </label>
      {error && (
        <div class="alert error" role="alert">
          {error}
        </div>
      )}
      <div class="modal-actions">
        <button class="btn" onClick={onClose}>
          Cancel
        </button>
        <button class="btn primary" disabled={!question.trim() || busy} onClick={send} data-testid="flag-send">
          Send
        </button>
      </div>
    </Dialog>
  );
}

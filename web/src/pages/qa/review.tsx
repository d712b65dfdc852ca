/**
 * One submission under peer review or lead audit: the annotator's work in the workspace
 * and the verdict. Accept; fix (edit in the workspace, then send the corrected list); or
 * reject with at least one error, each with a type and optionally tied to an annotation
 * (select it first) and its region, plus a comment.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, call, type ErrorIn, type ErrorType, type ReviewItem, type User, type Verdict } from "../../api/client";
import { navigate, type ReviewStage } from "../../router";
import { toWire } from "../../workspace/autosave";
import { latestSchema } from "../../workspace/page";
import { openImage } from "../../workspace/source";
import type { Annotation } from "../../workspace/types";
import { Workspace, type WorkspaceData, type WorkspaceHandle } from "../../workspace/workspace";
import { ERROR_TYPES, errText, errorName, regionOf, regionText, type Region } from "./common";
import { personName, useMembers } from "./reviews";

interface Loaded extends WorkspaceData {
  item: ReviewItem;
}

async function load(projectId: number, assignmentId: number): Promise<Loaded> {
  const item = await call(api.GET("/api/qa/reviews/{assignment_id}", { params: { path: { assignment_id: assignmentId } } }));
  const task = await call(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: item.assignment.task_id } } }));
  const [asset, schema] = await Promise.all([
    call(api.GET("/api/projects/{project_id}/assets/{asset_id}", { params: { path: { project_id: projectId, asset_id: task.asset_id } } })),
    latestSchema(projectId),
  ]);
  const source = await openImage(projectId, asset);
  return { item, schema, source, revision: item.revision, target: null };
}

export function ReviewPage({ projectId, assignmentId, stage, user }: { projectId: number; assignmentId: number; stage: ReviewStage; user: User }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ws, setWs] = useState<WorkspaceHandle | null>(null);
  useEffect(() => {
    load(projectId, assignmentId).then(setData, (e) => setError(errText(e)));
  }, [projectId, assignmentId]);
  const title = stage === "audit" ? "Lead audit" : "Peer review";
  return (
    <div class="workspace">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo" aria-hidden="true">◆</span> labelproof
        </a>
        <nav class="crumbs">
          <a href="#/projects">Projects</a> / <a href={`#/projects/${projectId}`}>Project {projectId}</a> /{" "}
          <a href={`#/projects/${projectId}/reviews`}>Reviews</a> /{" "}
          <span>
            {title} of assignment {assignmentId}
          </span>
        </nav>
        <div class="spacer" />
        <span class="who">{user.display_name || user.email}</span>
      </header>
      {error && <div class="alert error page-error">{error}</div>}
      {!data && !error && <div class="splash">Loading submission…</div>}
      {data && (
        <Workspace
          data={data}
          onReady={setWs}
          localNote="Your edits are sent only with a Fix verdict"
          side={ws && <ReviewSide projectId={projectId} data={data} ws={ws} stage={stage} />}
        />
      )}
    </div>
  );
}

interface ErrorRow extends ErrorIn {
  key: number;
}

let rowKey = 0;

function ReviewSide({ projectId, data, ws, stage }: { projectId: number; data: Loaded; ws: WorkspaceHandle; stage: ReviewStage }) {
  const a = data.item.assignment;
  const members = useMembers(projectId);
  const original = useMemo(() => new Set(((data.revision?.annotations ?? []) as unknown as Annotation[]).map((x) => x.id)), [data]);
  const startVersion = useMemo(() => ws.doc.version, [ws]);
  const [errors, setErrors] = useState<ErrorRow[]>([]);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  useEffect(() => ws.doc.on(() => setTick((t) => t + 1)), [ws]);
  const edited = ws.doc.version !== startVersion;

  /** An error tied to the selected object when there is one (id only if the annotator drew it). */
  const tied = (): Pick<ErrorIn, "annotation_id" | "label" | "region"> => {
    const sel = ws.doc.selected ? ws.doc.get(ws.doc.selected) : undefined;
    if (!sel) return { annotation_id: null, label: null, region: null };
    const region = regionOf(ws.doc, sel.id);
    return original.has(sel.id) ? { annotation_id: sel.id, label: null, region } : { annotation_id: null, label: sel.label, region };
  };
  const add = () => setErrors([...errors, { key: ++rowKey, type: "missed_object", comment: "", ...tied() }]);
  const update = (key: number, patch: Partial<ErrorRow>) => setErrors(errors.map((e) => (e.key === key ? { ...e, ...patch } : e)));

  const send = async (verdict: Verdict) => {
    setBusy(true);
    setError(null);
    const body = {
      verdict,
      comment,
      errors: errors.map(({ key: _k, ...e }) => e),
      annotations: verdict === "fix" ? (ws.doc.items.map(toWire) as unknown as Record<string, unknown>[]) : null,
    };
    const path = { params: { path: { assignment_id: a.id } }, body };
    try {
      if (stage === "audit") await call(api.POST("/api/qa/assignments/{assignment_id}/audits", path));
      else await call(api.POST("/api/qa/assignments/{assignment_id}/reviews", path));
      navigate(`/projects/${projectId}/reviews`);
    } catch (e) {
      setError(errText(e));
      setBusy(false);
    }
  };

  const past = a.history.filter((h) => h.kind === "reviewed");
  return (
    <div class="qa-side" data-testid="review-side">
      <section>
        <h4>{stage === "audit" ? "Lead audit" : "Peer review"}</h4>
        <dl class="facts">
          <dt>Annotator</dt>
          <dd>{personName(members, a.annotator_id)}</dd>
          <dt>Revision</dt>
          <dd>{a.submitted_revision ?? "—"}</dd>
          <dt>Cycle</dt>
          <dd>
            {a.cycle} · {a.rejections} rejection{a.rejections === 1 ? "" : "s"}
          </dd>
          <dt>SOP</dt>
          <dd>v{a.sop_version}</dd>
        </dl>
        {past.length > 0 && (
          <ul class="esc-mini small">
            {past.map((h, i) => {
              const d = (h.details ?? h) as { stage?: string; verdict?: string; errors?: { type: string }[] };
              return (
                <li key={i}>
                  {d.stage?.replace("_", " ")}: {d.verdict} {d.errors?.length ? `(${d.errors.map((x) => errorName(x.type)).join(", ")})` : ""}
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section>
        <h4>
          Errors <span class="spacer" />
          <button class="link" onClick={add} data-testid="add-error">
            + add {ws.doc.selected ? "for selected" : ""}
          </button>
        </h4>
        {errors.length === 0 && <p class="muted small">Select an object, then add an error to tie it to that object and its region.</p>}
        {errors.map((e) => (
          <div class="error-row" key={e.key} data-testid="error-row">
            <select value={e.type} onChange={(ev) => update(e.key, { type: (ev.target as HTMLSelectElement).value as ErrorType })} data-testid="error-type">
              {ERROR_TYPES.map(([t, name]) => (
                <option key={t} value={t}>
                  {name}
                </option>
              ))}
            </select>
            <div class="small muted">
              {e.annotation_id ? (
                <button class="link" onClick={() => ws.doc.select(e.annotation_id!)}>
                  object {e.annotation_id}
                </button>
              ) : e.label ? (
                `class ${e.label}`
              ) : (
                "whole image"
              )}{" "}
              {regionText(e.region as Region | null)}
              <button class="link" onClick={() => update(e.key, tied())} title="Tie to the selected object">
                · tie to selected
              </button>
            </div>
            <input type="text" placeholder="What is wrong?" value={e.comment} onInput={(ev) => update(e.key, { comment: (ev.target as HTMLInputElement).value })} data-testid="error-comment" />
            <button class="icon" title="Remove" aria-label="Remove error" onClick={() => setErrors(errors.filter((x) => x.key !== e.key))}>
              ✕
            </button>
          </div>
        ))}
      </section>
      <section>
        <label>
          Comment to the annotator
          <textarea rows={3} value={comment} onInput={(ev) => setComment((ev.target as HTMLTextAreaElement).value)} data-testid="review-comment" />
        </label>
        {error && (
          <div class="alert error small" role="alert">
            {error}
          </div>
        )}
        <div class="verdicts">
          <button class="btn ok" disabled={busy || edited} onClick={() => send("accept")} data-testid="verdict-accept" title={edited ? "You edited the work: send it as a fix" : ""}>
            Accept
          </button>
          <button class="btn" disabled={busy || !edited} onClick={() => send("fix")} data-testid="verdict-fix" title="Send your edits as the corrected version">
            Fix
          </button>
          <button class="btn danger" disabled={busy || errors.length === 0} onClick={() => send("reject")} data-testid="verdict-reject" title="Return the work for rework (needs an error)">
            Reject
          </button>
        </div>
      </section>
    </div>
  );
}

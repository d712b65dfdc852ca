/**
 * The annotator's queue: claim the next task, see my assignments, open one. Every
 * assignment is shown with the same fields whatever its task is (gold, consensus or
 * single look alike, as the API serves them).
 */
import { useEffect, useState } from "preact/hooks";
import { api, call, thumbnailUrl, type Assignment, type Sop } from "../../api/client";
import { navigate } from "../../router";
import { CAN, ProjectPage, STATUS_TEXT, errText, when } from "./common";

const OPEN = new Set(["annotating", "rework"]);

export function QueuePage({ projectId }: { projectId: number }) {
  return (
    <ProjectPage projectId={projectId} tab="queue" title="My queue">
      {(p) => (CAN.queue(p.role) ? <Queue projectId={projectId} /> : <p class="muted">Your role does not work a queue in this project.</p>)}
    </ProjectPage>
  );
}

function Queue({ projectId }: { projectId: number }) {
  const [mine, setMine] = useState<Assignment[] | null>(null);
  const [sop, setSop] = useState<Sop | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const path = { path: { project_id: projectId } };

  const refresh = () =>
    call(api.GET("/api/projects/{project_id}/qa/assignments/mine", { params: path })).then(
      (a) => setMine([...a].reverse()),
      (e) => setError(errText(e)),
    );

  useEffect(() => {
    void refresh();
    call(api.GET("/api/projects/{project_id}/qa/sop", { params: path })).then(setSop, () => setSop(null));
  }, [projectId]);

  const claim = async (queue: "production" | "calibration") => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      const out = await call(api.POST("/api/projects/{project_id}/qa/claim", { params: path, body: { queue } }));
      if (out.assignment) navigate(`/projects/${projectId}/queue/${out.assignment.id}`);
      else setNote(queue === "production" ? "Nothing to claim right now: the queue is empty." : "No calibration tasks are waiting for you.");
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  };

  const open = (mine ?? []).filter((a) => OPEN.has(a.status));
  return (
    <div class="qa-page">
      <div class="qa-actions card">
        <div>
          <h3>Next task</h3>
          <p class="muted small">
            You get the oldest waiting task, or the one you already hold. {open.length > 0 && `You have ${open.length} open.`}
          </p>
        </div>
        <div class="spacer" />
        <button class="btn" disabled={busy} onClick={() => claim("calibration")} data-testid="claim-calibration">
          Calibration task
        </button>
        <button class="btn primary" disabled={busy} onClick={() => claim("production")} data-testid="claim">
          {busy ? "Claiming…" : "Claim next task"}
        </button>
      </div>
      {note && (
        <div class="alert info" role="status" data-testid="queue-note">
          {note}
        </div>
      )}
      {error && (
        <div class="alert error" role="alert">
          {error}
        </div>
      )}
      {sop && (
        <details class="card sop">
          <summary>
            Guidelines · SOP version {sop.version} <span class="muted small">({when(sop.created_at)})</span>
          </summary>
          <div class="sop-text">{sop.guidelines}</div>
          {sop.changelog && <p class="muted small">Changes: {sop.changelog}</p>}
        </details>
      )}
      <h2>My assignments</h2>
      {!mine && <p class="muted">Loading…</p>}
      {mine && mine.length === 0 && <p class="muted">No assignments yet: claim a task to start.</p>}
      {mine && mine.length > 0 && (
        <table class="table" data-testid="my-assignments">
          <thead>
            <tr>
              <th />
              <th>Assignment</th>
              <th>Status</th>
              <th>Revision</th>
              <th>SOP</th>
              <th>Claimed</th>
              <th>Due back</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {mine.map((a) => (
              <tr key={a.id} data-testid="assignment-row" data-assignment={a.id} data-status={a.status} class={a.status === "rework" ? "row-warn" : ""}>
                <td class="thumb-cell">
                  <img src={thumbnailUrl(projectId, a.asset_id, 128)} alt="" loading="lazy" />
                </td>
                <td>
                  <strong>#{a.id}</strong>
                  <div class="muted small">
                    task {a.task_id} · {a.width}×{a.height}
                  </div>
                </td>
                <td>
                  <span class={`chip status-${a.status}`}>{STATUS_TEXT[a.status] ?? a.status}</span>
                </td>
                <td>{a.revision || "—"}</td>
                <td>v{a.sop_version}</td>
                <td class="small">{when(a.claimed_at)}</td>
                <td class="small">{OPEN.has(a.status) ? when(a.expires_at) : ""}</td>
                <td>
                  <a class="btn small" href={`#/projects/${projectId}/queue/${a.id}`} data-testid="open-assignment">
                    {OPEN.has(a.status) ? "Open" : "View"}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/**
 * Escalations: leads see every question and answer it, optionally publishing a new SOP
 * version from the answer (guidelines, self-check checklist, changelog); everyone else sees
 * the questions they raised and the answers.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, call, thumbnailUrl, type Escalation, type Member, type Sop } from "../../api/client";
import { CAN, ProjectPage, errText, regionText, when, type Region } from "./common";
import { personName, useMembers } from "./reviews";

export function EscalationsPage({ projectId }: { projectId: number }) {
  return (
    <ProjectPage projectId={projectId} tab="escalations" title="Escalations">
      {(p) => <Escalations projectId={projectId} lead={CAN.answer(p.role)} />}
    </ProjectPage>
  );
}

function Escalations({ projectId, lead }: { projectId: number; lead: boolean }) {
  const [items, setItems] = useState<Escalation[] | null>(null);
  const [sop, setSop] = useState<Sop | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showAnswered, setShowAnswered] = useState(false);
  const members = useMembers(projectId);
  const path = { params: { path: { project_id: projectId } } };
  const refresh = () => {
    call(api.GET("/api/projects/{project_id}/qa/escalations", path)).then((e) => setItems([...e].reverse()), (e) => setError(errText(e)));
    call(api.GET("/api/projects/{project_id}/qa/sop", path)).then(setSop, (e) => {
      if (!(e instanceof ApiError && e.status === 404)) setError(errText(e));
    });
  };
  useEffect(refresh, [projectId]);
  if (error) return <div class="alert error">{error}</div>;
  if (!items) return <p class="muted">Loading…</p>;
  const open = items.filter((e) => e.answer === null);
  const answered = items.filter((e) => e.answer !== null);
  return (
    <div class="qa-page">
      <p class="muted">
        {open.length} open · {answered.length} answered · SOP in force: {sop ? `v${sop.version}` : "none yet"}
      </p>
      {open.length === 0 && <p class="muted" data-testid="no-open-escalations">No open questions.</p>}
      {open.map((e) => (
        <EscalationCard key={e.id} projectId={projectId} e={e} members={members} lead={lead} sop={sop} onAnswered={refresh} />
      ))}
      {answered.length > 0 && (
        <button class="btn ghost small" onClick={() => setShowAnswered(!showAnswered)}>
          {showAnswered ? "Hide" : "Show"} {answered.length} answered
        </button>
      )}
      {showAnswered && answered.map((e) => <EscalationCard key={e.id} projectId={projectId} e={e} members={members} lead={false} sop={sop} onAnswered={refresh} />)}
    </div>
  );
}

/** The task's thumbnail with the escalated region outlined. */
function RegionThumb({ projectId, taskId, region }: { projectId: number; taskId: number; region: Region | null }) {
  const [asset, setAsset] = useState<{ id: number; width: number; height: number } | null>(null);
  useEffect(() => {
    call(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId } } }))
      .then((t) => call(api.GET("/api/projects/{project_id}/assets/{asset_id}", { params: { path: { project_id: projectId, asset_id: t.asset_id } } })))
      .then(setAsset, () => setAsset(null));
  }, [taskId]);
  if (!asset) return <div class="esc-thumb" />;
  return (
    <div class="esc-thumb">
      <svg viewBox={`0 0 ${asset.width} ${asset.height}`} preserveAspectRatio="xMidYMid meet">
        <image href={thumbnailUrl(projectId, asset.id, 256)} x="0" y="0" width={asset.width} height={asset.height} />
        {region && (
          <rect x={region.x} y={region.y} width={region.w} height={region.h} fill="rgba(255,176,32,.2)" stroke="#ffb020" stroke-width={Math.max(asset.width, asset.height) / 120} />
        )}
      </svg>
    </div>
  );
}

function EscalationCard(props: { projectId: number; e: Escalation; members: Map<number, Member>; lead: boolean; sop: Sop | null; onAnswered: () => void }) {
  const { e } = props;
  return (
    <article class="card escalation" data-testid="escalation" data-escalation={e.id}>
      <RegionThumb projectId={props.projectId} taskId={e.task_id} region={e.region as Region | null} />
      <div class="esc-body">
        <div class="muted small">
          #{e.id} · task {e.task_id} · {personName(props.members, e.raised_by)} · {when(e.created_at)} · under SOP v{e.sop_version}
        </div>
        <p class="esc-question">{e.question}</p>
        <div class="chips">
          {e.label && <span class="chip">class: {e.label}</span>}
          {e.region && <span class="chip">region {regionText(e.region as Region)}</span>}
          {e.annotation_id && <span class="chip">object {e.annotation_id}</span>}
        </div>
        {e.answer !== null && (
          <div class="esc-answer" data-testid="escalation-answer">
            <strong>Answer:</strong> {e.answer}
            {e.published_sop_version !== null && <span class="chip ok">published SOP v{e.published_sop_version}</span>}
          </div>
        )}
        {e.answer === null && props.lead && <AnswerForm e={e} sop={props.sop} onAnswered={props.onAnswered} />}
      </div>
    </article>
  );
}

interface CheckItem {
  id: string;
  text: string;
}

function AnswerForm({ e, sop, onAnswered }: { e: Escalation; sop: Sop | null; onAnswered: () => void }) {
  const [answer, setAnswer] = useState("");
  const [publish, setPublish] = useState(false);
  const [guidelines, setGuidelines] = useState("");
  const [checklist, setChecklist] = useState<CheckItem[]>([]);
  const [changelog, setChangelog] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const startPublish = (on: boolean) => {
    setPublish(on);
    if (on && !guidelines) {
      const cls = e.label ? ` (${e.label})` : "";
      setGuidelines(`${sop?.guidelines ?? ""}\n\nQ${cls}: ${e.question}\nA: ${answer}`.trim());
      setChecklist((sop?.checklist ?? []).map((c) => ({ id: c.id, text: c.text })));
      setChangelog(`Escalation #${e.id}${cls}: ${e.question}`.slice(0, 500));
    }
  };
  const nextId = () => {
    const used = new Set(checklist.map((c) => c.id));
    let n = checklist.length + 1;
    while (used.has(`item-${n}`)) n++;
    return `item-${n}`;
  };
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(
        api.POST("/api/qa/escalations/{escalation_id}/answer", {
          params: { path: { escalation_id: e.id } },
          body: {
            answer,
            publish_sop: publish
              ? { guidelines, checklist: checklist.filter((c) => c.text.trim()), example_asset_ids: sop?.example_asset_ids ?? [], changelog }
              : null,
          },
        }),
      );
      onAnswered();
    } catch (err) {
      setError(errText(err));
      setBusy(false);
    }
  };
  return (
    <div class="answer-form" data-testid="answer-form">
      <label>
        Answer
        <textarea rows={3} value={answer} onInput={(ev) => setAnswer((ev.target as HTMLTextAreaElement).value)} data-testid="answer-text" />
      </label>
      <label class="check">
        <input type="checkbox" checked={publish} onChange={(ev) => startPublish((ev.target as HTMLInputElement).checked)} data-testid="answer-publish" />
        Publish a new SOP version (v{(sop?.version ?? 0) + 1}) from this answer
      </label>
      {publish && (
        <div class="sop-editor">
          <label>
            Guidelines
            <textarea rows={8} value={guidelines} onInput={(ev) => setGuidelines((ev.target as HTMLTextAreaElement).value)} data-testid="sop-guidelines" />
          </label>
          <div>
            <h4>Self-check checklist</h4>
            {checklist.map((c, i) => (
              <div class="check-edit" key={c.id}>
                <input
                  type="text"
                  value={c.text}
                  onInput={(ev) => setChecklist(checklist.map((x, j) => (j === i ? { ...x, text: (ev.target as HTMLInputElement).value } : x)))}
                  data-testid="sop-check-item"
                />
                <button class="icon" aria-label="Remove item" onClick={() => setChecklist(checklist.filter((_, j) => j !== i))}>
                  ✕
                </button>
              </div>
            ))}
            <button class="link" onClick={() => setChecklist([...checklist, { id: nextId(), text: "" }])} data-testid="sop-add-check">
              + add an item
            </button>
          </div>
          <label>
            Changelog
            <input type="text" value={changelog} onInput={(ev) => setChangelog((ev.target as HTMLInputElement).value)} data-testid="sop-changelog" />
          </label>
        </div>
      )}
      {error && (
        <div class="alert error small" role="alert">
          {error}
        </div>
      )}
      <div class="modal-actions">
        <button class="btn primary" disabled={busy || !answer.trim() || (publish && !guidelines.trim())} onClick={send} data-testid="answer-send">
          {publish ? "Answer and publish" : "Answer"}
        </button>
      </div>
    </div>
  );
}

/** The review and audit queues of reviewers and leads: submissions waiting for a verdict. */
import { useEffect, useState } from "preact/hooks";
import { api, call, type Member, type StaffAssignment } from "../../api/client";
import { CAN, ProjectPage, errText, when } from "./common";

export function ReviewsPage({ projectId }: { projectId: number }) {
  return (
    <ProjectPage projectId={projectId} tab="reviews" title="Reviews">
      {(p) => (CAN.review(p.role) ? <Queues projectId={projectId} audit={CAN.audit(p.role)} /> : <p class="muted">Your role does not review in this project.</p>)}
    </ProjectPage>
  );
}

/** Member names by user id (empty when the caller may not list members). */
export function useMembers(projectId: number): Map<number, Member> {
  const [members, setMembers] = useState<Map<number, Member>>(new Map());
  useEffect(() => {
    call(api.GET("/api/projects/{project_id}/members", { params: { path: { project_id: projectId } } })).then(
      (m) => setMembers(new Map(m.map((x) => [x.user_id, x]))),
      () => setMembers(new Map()),
    );
  }, [projectId]);
  return members;
}

export const personName = (members: Map<number, Member>, id: number | null | undefined): string => {
  if (id === null || id === undefined) return "—";
  const m = members.get(id);
  return m ? m.display_name || m.email : `user ${id}`;
};

function Queues({ projectId, audit }: { projectId: number; audit: boolean }) {
  const [reviews, setReviews] = useState<StaffAssignment[] | null>(null);
  const [audits, setAudits] = useState<StaffAssignment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const members = useMembers(projectId);
  useEffect(() => {
    const path = { params: { path: { project_id: projectId } } };
    call(api.GET("/api/projects/{project_id}/qa/reviews", path)).then(setReviews, (e) => setError(errText(e)));
    if (audit) call(api.GET("/api/projects/{project_id}/qa/audits", path)).then(setAudits, (e) => setError(errText(e)));
  }, [projectId, audit]);
  return (
    <div class="qa-page">
      {error && <div class="alert error">{error}</div>}
      <h2>Peer review</h2>
      <Table projectId={projectId} rows={reviews} stage="review" members={members} />
      {audit && (
        <>
          <h2>Lead audit</h2>
          <Table projectId={projectId} rows={audits} stage="audit" members={members} />
        </>
      )}
    </div>
  );
}

function Table({ projectId, rows, stage, members }: { projectId: number; rows: StaffAssignment[] | null; stage: "review" | "audit"; members: Map<number, Member> }) {
  if (!rows) return <p class="muted">Loading…</p>;
  if (rows.length === 0) return <p class="muted" data-testid={`${stage}-empty`}>Nothing waiting.</p>;
  return (
    <table class="table" data-testid={`${stage}-queue`}>
      <thead>
        <tr>
          <th>Assignment</th>
          <th>Annotator</th>
          <th>Cycle</th>
          <th>Rejections</th>
          <th>Revision</th>
          <th>SOP</th>
          <th>Claimed</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <tr key={a.id} data-testid={`${stage}-row`} data-assignment={a.id}>
            <td>
              <strong>#{a.id}</strong> <span class="muted small">task {a.task_id}</span>
            </td>
            <td>{personName(members, a.annotator_id)}</td>
            <td>{a.cycle}</td>
            <td>{a.rejections}</td>
            <td>{a.submitted_revision ?? "—"}</td>
            <td>v{a.sop_version}</td>
            <td class="small">{when(a.claimed_at)}</td>
            <td>
              <a class="btn small" href={`#/projects/${projectId}/reviews/${a.id}${stage === "audit" ? "?stage=audit" : ""}`} data-testid="open-review">
                {stage === "audit" ? "Audit" : "Review"}
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

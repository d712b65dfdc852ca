/**
 * Quality figures (roles with QA read): gold accuracy and agreement per annotator, rework
 * and exception rates, ambiguity per SOP version and class, error counts, turnaround and
 * consensus, each with the definition the server computed it by (hover the (i)).
 */
import { useEffect, useState } from "preact/hooks";
import { api, call, type Member } from "../../api/client";
import { CAN, ProjectPage, errText, errorName, pct } from "./common";
import { personName, useMembers } from "./reviews";

interface Rate {
  value: number | null;
  count: number;
  n: number;
}
interface Durations {
  n: number;
  mean_s: number | null;
  median_s: number | null;
}
interface AnnotatorFigures {
  user_id: number;
  status: string | null;
  gold_accuracy: Rate & { matched: number; missed: number; extra: number; tasks: number };
  agreement: { value: number | null; n: number };
  rework_rate: Rate;
  rework_loops: number;
  escalations: number;
}
interface Figures {
  definitions: Record<string, string>;
  n_events: number;
  annotators: AnnotatorFigures[];
  rework_rate: Rate;
  rework_loops: number;
  exception_rate: Rate;
  ambiguity: { by_sop_version: (Rate & { sop_version: number })[]; by_class: (Rate & { sop_version: number; label: string })[] };
  errors: { rows: { type: string; label: string | null; annotator: number; stage: string; sop_version: number; count: number }[]; total: number };
  turnaround: Record<"claim_to_submit" | "submit_to_accept" | "claim_to_accept", Durations>;
  consensus: { n: number; mean_agreement: number | null; below_bar: number };
}

export function FiguresPage({ projectId }: { projectId: number }) {
  return (
    <ProjectPage projectId={projectId} tab="figures" title="Quality figures">
      {(p) => (CAN.figures(p.role) ? <FiguresView projectId={projectId} /> : <p class="muted">Your role cannot read the quality figures.</p>)}
    </ProjectPage>
  );
}

const Info = ({ text }: { text: string | undefined }) => (
  <span class="info" title={text ?? ""} aria-label={text ?? ""}>
    i
  </span>
);

const rateText = (r: Rate) => (r.value === null ? "—" : `${pct(r.value)}`);
const ofText = (r: Rate) => `${r.count} of ${r.n}`;

function duration(s: number | null): string {
  if (s === null) return "—";
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function Tile({ label, value, sub, def, testid }: { label: string; value: string; sub: string; def?: string; testid: string }) {
  return (
    <div class="card figure" data-testid={testid}>
      <div class="muted small">
        {label} <Info text={def} />
      </div>
      <div class="figure-value">{value}</div>
      <div class="muted small">{sub}</div>
    </div>
  );
}

function FiguresView({ projectId }: { projectId: number }) {
  const [f, setF] = useState<Figures | null>(null);
  const [error, setError] = useState<string | null>(null);
  const members = useMembers(projectId);
  useEffect(() => {
    call(api.GET("/api/projects/{project_id}/qa/figures", { params: { path: { project_id: projectId } } })).then(
      (x) => setF(x as unknown as Figures),
      (e) => setError(errText(e)),
    );
  }, [projectId]);
  if (error) return <div class="alert error">{error}</div>;
  if (!f) return <p class="muted">Loading…</p>;
  const d = f.definitions;
  const gold = f.annotators.reduce((acc, a) => ({ c: acc.c + a.gold_accuracy.count, n: acc.n + a.gold_accuracy.n }), { c: 0, n: 0 });
  const amb = f.ambiguity.by_sop_version.reduce((acc, r) => ({ c: acc.c + r.count, n: acc.n + r.n }), { c: 0, n: 0 });
  return (
    <div class="qa-page">
      <p class="muted small">Computed from {f.n_events} QA events. Hover (i) for each definition.</p>
      <div class="figure-grid">
        <Tile label="Gold accuracy" value={gold.n ? pct(gold.c / gold.n) : "—"} sub={`${gold.c} correct of ${gold.n} objects`} def={d.gold_accuracy} testid="fig-gold" />
        <Tile label="Rework rate" value={rateText(f.rework_rate)} sub={`${ofText(f.rework_rate)} submissions · ${f.rework_loops} loops`} def={d.rework_rate} testid="fig-rework" />
        <Tile label="Exception rate" value={rateText(f.exception_rate)} sub={ofText(f.exception_rate)} def={d.exception_rate} testid="fig-exception" />
        <Tile label="Ambiguity rate" value={amb.n ? pct(amb.c / amb.n) : "—"} sub={`${amb.c} escalations / ${amb.n} claims`} def={d.ambiguity_rate} testid="fig-ambiguity" />
        <Tile label="Errors" value={String(f.errors.total)} sub="tagged at review and audit" def={d.errors} testid="fig-errors" />
        <Tile
          label="Consensus"
          value={f.consensus.mean_agreement === null ? "—" : f.consensus.mean_agreement.toFixed(3)}
          sub={`${f.consensus.n} merges · ${f.consensus.below_bar} below the bar`}
          def={d.consensus}
          testid="fig-consensus"
        />
      </div>

      <h2>
        Annotators <Info text={`${d.gold_accuracy}\n\n${d.agreement}`} />
      </h2>
      <AnnotatorTable rows={f.annotators} members={members} />

      <div class="two-col">
        <div>
          <h2>
            Ambiguity by SOP version <Info text={d.ambiguity_rate} />
          </h2>
          <table class="table" data-testid="ambiguity-table">
            <thead>
              <tr>
                <th>SOP</th>
                <th>Class</th>
                <th>Rate</th>
                <th>Escalations / claims</th>
              </tr>
            </thead>
            <tbody>
              {f.ambiguity.by_sop_version.map((r) => (
                <tr key={`v${r.sop_version}`}>
                  <td>v{r.sop_version}</td>
                  <td class="muted">all</td>
                  <td>{rateText(r)}</td>
                  <td>{ofText(r)}</td>
                </tr>
              ))}
              {f.ambiguity.by_class.map((r) => (
                <tr key={`v${r.sop_version}-${r.label}`}>
                  <td>v{r.sop_version}</td>
                  <td>{r.label}</td>
                  <td>{rateText(r)}</td>
                  <td>{ofText(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>
            Errors <Info text={d.errors} />
          </h2>
          <table class="table" data-testid="errors-table">
            <thead>
              <tr>
                <th>Type</th>
                <th>Class</th>
                <th>Annotator</th>
                <th>Stage</th>
                <th>SOP</th>
                <th>Count</th>
              </tr>
            </thead>
            <tbody>
              {f.errors.rows.length === 0 && (
                <tr>
                  <td colSpan={6} class="muted">
                    No errors tagged yet.
                  </td>
                </tr>
              )}
              {f.errors.rows.map((r, i) => (
                <tr key={i} data-testid="error-count">
                  <td>{errorName(r.type)}</td>
                  <td>{r.label ?? "—"}</td>
                  <td>{personName(members, r.annotator)}</td>
                  <td>{r.stage.replace("_", " ")}</td>
                  <td>v{r.sop_version}</td>
                  <td>{r.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <h2>
        Turnaround <Info text={d.turnaround} />
      </h2>
      <table class="table narrow">
        <thead>
          <tr>
            <th />
            <th>Median</th>
            <th>Mean</th>
            <th>n</th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              ["claim_to_submit", "Claim → first submit"],
              ["submit_to_accept", "First submit → accepted"],
              ["claim_to_accept", "Claim → accepted"],
            ] as const
          ).map(([k, label]) => (
            <tr key={k}>
              <td>{label}</td>
              <td>{duration(f.turnaround[k].median_s)}</td>
              <td>{duration(f.turnaround[k].mean_s)}</td>
              <td>{f.turnaround[k].n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AnnotatorTable({ rows, members }: { rows: AnnotatorFigures[]; members: Map<number, Member> }) {
  if (rows.length === 0) return <p class="muted">No annotator has worked yet.</p>;
  return (
    <table class="table" data-testid="annotator-table">
      <thead>
        <tr>
          <th>Annotator</th>
          <th>Qualification</th>
          <th>Gold accuracy</th>
          <th>Gold tasks</th>
          <th>Matched / missed / extra</th>
          <th>Agreement (alpha)</th>
          <th>Rework</th>
          <th>Escalations</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <tr key={a.user_id} data-testid="annotator-row" data-user={a.user_id}>
            <td>{personName(members, a.user_id)}</td>
            <td>{a.status ? <span class="chip">{a.status.replace("_", " ")}</span> : <span class="muted">—</span>}</td>
            <td>{rateText(a.gold_accuracy)}</td>
            <td>{a.gold_accuracy.tasks}</td>
            <td>
              {a.gold_accuracy.matched} / {a.gold_accuracy.missed} / {a.gold_accuracy.extra}
            </td>
            <td>{a.agreement.value === null ? "—" : `${a.agreement.value.toFixed(3)} (n ${a.agreement.n})`}</td>
            <td data-testid="annotator-rework">
              {rateText(a.rework_rate)} <span class="muted small">({ofText(a.rework_rate)})</span>
            </td>
            <td>{a.escalations}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

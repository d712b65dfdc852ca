/**
 * Shared pieces of the QA pages (docs/qa-workflow.md): who may see which page, the
 * project's tab bar, error-type names, regions of selected objects, and small formatters.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, call, type ErrorType, type Project } from "../../api/client";
import type { Doc } from "../../workspace/doc";

export type Role = "admin" | "program_manager" | "team_lead" | "reviewer" | "annotator" | "auditor";

/** The QA pages each role can use (the server decides; this only hides dead ends). */
export const CAN = {
  queue: (r: string) => r === "admin" || r === "annotator",
  review: (r: string) => r === "admin" || r === "team_lead" || r === "reviewer",
  audit: (r: string) => r === "admin" || r === "team_lead",
  escalations: (r: string) => r !== "auditor" && r !== "program_manager",
  answer: (r: string) => r === "admin" || r === "team_lead",
  figures: (r: string) => r === "admin" || r === "program_manager" || r === "team_lead" || r === "auditor",
};

export const ERROR_TYPES: [ErrorType, string][] = [
  ["missed_object", "Missed object"],
  ["extra_object", "Extra object"],
  ["wrong_class", "Wrong class"],
  ["loose_geometry", "Loose geometry"],
  ["wrong_attribute", "Wrong attribute"],
  ["sop_violation", "SOP violation"],
];

export const errorName = (t: string): string => ERROR_TYPES.find(([k]) => k === t)?.[1] ?? t.replace(/_/g, " ");

/** What an annotator's assignment status means to them. */
export const STATUS_TEXT: Record<string, string> = {
  annotating: "In progress",
  rework: "Returned for rework",
  submitted: "Submitted",
  accepted: "Accepted",
  expired: "Expired",
};

/** A rectangle in image pixels (a type alias, so it fits the API's `{[k]: number}`). */
export type Region = { x: number; y: number; w: number; h: number };

/** The image-space bounding box of object `id` (rounded to 0.01 px), or null. */
export function regionOf(doc: Doc, id: string | null): Region | null {
  const b = id ? doc.index.bounds(id) : null;
  if (!b) return null;
  const r = (v: number) => Math.round(v * 100) / 100;
  return { x: r(b.x0), y: r(b.y0), w: r(b.x1 - b.x0), h: r(b.y1 - b.y0) };
}

export const regionText = (g: Region | null | undefined): string =>
  g ? `${Math.round(g.w)}×${Math.round(g.h)} at (${Math.round(g.x)}, ${Math.round(g.y)})` : "";

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(digits)} %`;
}

export function errText(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e instanceof Error ? e.message : e);
}

export function useProject(projectId: number): { project: Project | null; error: string | null } {
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call(api.GET("/api/projects/{project_id}", { params: { path: { project_id: projectId } } })).then(setProject, (e) => setError(errText(e)));
  }, [projectId]);
  return { project, error };
}

export type Tab = "tasks" | "queue" | "reviews" | "escalations" | "figures";

/** The project's pages a role can open, as tabs. */
export function ProjectTabs({ project, active }: { project: Project; active: Tab }) {
  const r = project.role;
  const tabs: [Tab, string, boolean][] = [
    ["tasks", "Tasks", true],
    ["queue", "My queue", CAN.queue(r)],
    ["reviews", "Reviews", CAN.review(r)],
    ["escalations", "Escalations", CAN.escalations(r)],
    ["figures", "Quality figures", CAN.figures(r)],
  ];
  return (
    <nav class="tabs" aria-label="Project pages">
      {tabs
        .filter(([, , ok]) => ok)
        .map(([t, label]) => (
          <a key={t} href={t === "tasks" ? `#/projects/${project.id}` : `#/projects/${project.id}/${t}`} class={t === active ? "active" : ""} data-testid={`tab-${t}`}>
            {label}
          </a>
        ))}
    </nav>
  );
}

/** A project page: title, role, tabs, then the page's content. */
export function ProjectPage({ projectId, tab, title, children }: { projectId: number; tab: Tab; title?: string; children: (p: Project) => ComponentChildren }) {
  const { project, error } = useProject(projectId);
  if (error) return <div class="alert error">{error}</div>;
  if (!project) return <div class="muted">Loading…</div>;
  return (
    <section>
      <h1>{project.name}</h1>
      <p class="muted">
        {title ? `${title} · ` : ""}your role: {project.role.replace("_", " ")}
      </p>
      <ProjectTabs project={project} active={tab} />
      {children(project)}
    </section>
  );
}

/** A modal dialog with a title and actions. */
export function Dialog({ title, onClose, children, testid }: { title: string; onClose: () => void; children: ComponentChildren; testid: string }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
      <div class="modal qa-dialog">
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

/** Hash routes only (`#/projects/1/tasks/3`), so the server needs no fallback route. */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "login" }
  | { name: "projects" }
  | { name: "tasks"; projectId: number }
  | { name: "workspace"; projectId: number; taskId: number }
  | { name: "queue"; projectId: number }
  | { name: "assignment"; projectId: number; assignmentId: number }
  | { name: "reviews"; projectId: number }
  | { name: "review"; projectId: number; assignmentId: number; stage: ReviewStage }
  | { name: "escalations"; projectId: number }
  | { name: "figures"; projectId: number }
  | { name: "bench"; query: URLSearchParams }
  | { name: "notFound"; path: string };

/** Peer review or lead audit: the same page, a different verdict route. */
export type ReviewStage = "review" | "audit";

const isId = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** QA pages under a project: queue, queue/<a>, reviews, reviews/<a>?stage=, escalations, figures. */
function qaRoute(projectId: number, parts: string[], query: URLSearchParams): Route | null {
  const [page, id] = parts;
  if (parts.length === 1) {
    if (page === "queue") return { name: "queue", projectId };
    if (page === "reviews") return { name: "reviews", projectId };
    if (page === "escalations") return { name: "escalations", projectId };
    if (page === "figures") return { name: "figures", projectId };
  }
  if (parts.length === 2 && isId(id)) {
    if (page === "queue") return { name: "assignment", projectId, assignmentId: Number(id) };
    if (page === "reviews") {
      const stage: ReviewStage = query.get("stage") === "audit" ? "audit" : "review";
      return { name: "review", projectId, assignmentId: Number(id), stage };
    }
  }
  return null;
}

export function parseRoute(hash: string): Route {
  const full = hash.replace(/^#/, "") || "/projects";
  const [path, qs] = [full.split("?")[0], new URLSearchParams(full.split("?")[1] ?? "")];
  if (full.startsWith("/bench")) return { name: "bench", query: qs };
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "projects" && parts.length >= 3 && isId(parts[1])) {
    const qa = qaRoute(Number(parts[1]), parts.slice(2), qs);
    if (qa) return qa;
  }
  if (parts[0] === "login") return { name: "login" };
  if (parts[0] === "projects" && parts.length === 1) return { name: "projects" };
  if (parts[0] === "projects" && parts.length === 2 && /^\d+$/.test(parts[1])) {
    return { name: "tasks", projectId: Number(parts[1]) };
  }
  if (
    parts[0] === "projects" &&
    parts[2] === "tasks" &&
    parts.length === 4 &&
    /^\d+$/.test(parts[1]) &&
    /^\d+$/.test(parts[3])
  ) {
    return { name: "workspace", projectId: Number(parts[1]), taskId: Number(parts[3]) };
  }
  return { name: "notFound", path };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

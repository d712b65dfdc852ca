/** Hash routes only (`#/projects/1/tasks/3`), so the server needs no fallback route. */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "login" }
  | { name: "projects" }
  | { name: "tasks"; projectId: number }
  | { name: "workspace"; projectId: number; taskId: number }
  | { name: "bench"; query: URLSearchParams }
  | { name: "notFound"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/projects";
  if (path.startsWith("/bench")) {
    return { name: "bench", query: new URLSearchParams(path.split("?")[1] ?? "") };
  }
  const parts = path.split("/").filter(Boolean);
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

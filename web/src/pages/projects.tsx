import { useEffect, useState } from "preact/hooks";
import { api, call, type Project } from "../api/client";

export function ProjectsPage() {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call(api.GET("/api/projects"))
      .then(setProjects)
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error) return <div class="alert error">{error}</div>;
  if (!projects) return <div class="muted">Loading projects…</div>;
  return (
    <section>
      <h1>Projects</h1>
      {projects.length === 0 && <p class="muted">You are not a member of any project yet.</p>}
      <div class="grid">
        {projects.map((p) => (
          <a class="card project" href={`#/projects/${p.id}`} key={p.id} data-testid="project">
            <h3>{p.name}</h3>
            <p class="muted">{p.description || "No description."}</p>
            <div class="chips">
              <span class="chip">{p.role.replace("_", " ")}</span>
              <span class="chip">{p.vertical}</span>
              <span class={`chip level-${p.classification}`}>{p.classification}</span>
            </div>
          </a>
        ))}
      </div>
    </section>
  );
}

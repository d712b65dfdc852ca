import { useEffect, useState } from "preact/hooks";
import { api, call, thumbnailUrl, type Asset, type Project, type Task } from "../api/client";
import { ProjectTabs } from "./qa/common";

const PAGE = 200;

export function TasksPage({ projectId }: { projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [assets, setAssets] = useState<Map<number, Asset>>(new Map());
  const [total, setTotal] = useState(0);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const path = { path: { project_id: projectId } };
    Promise.all([
      call(api.GET("/api/projects/{project_id}", { params: path })),
      call(
        api.GET("/api/projects/{project_id}/tasks", {
          params: { ...path, query: { offset, limit: PAGE } },
        }),
      ),
      call(
        api.GET("/api/projects/{project_id}/assets", {
          params: { ...path, query: { offset: 0, limit: 1000 } },
        }),
      ),
    ])
      .then(([p, t, a]) => {
        setProject(p);
        setTasks(t.items);
        setTotal(t.total);
        setAssets(new Map(a.items.map((x) => [x.id, x])));
      })
      .catch((e: Error) => setError(e.message));
  }, [projectId, offset]);

  if (error) return <div class="alert error">{error}</div>;
  if (!tasks || !project) return <div class="muted">Loading tasks…</div>;
  return (
    <section>
      <h1>{project.name}</h1>
      <p class="muted">
        {total} task{total === 1 ? "" : "s"} · your role: {project.role.replace("_", " ")}
      </p>
      <ProjectTabs project={project} active="tasks" />
      <div class="grid tasks">
        {tasks.map((t) => {
          const a = assets.get(t.asset_id);
          return (
            <a
              class="card task"
              href={`#/projects/${projectId}/tasks/${t.id}`}
              key={t.id}
              data-testid="task"
            >
              <div class="thumb">
                <img src={thumbnailUrl(projectId, t.asset_id, 256)} alt={a?.filename ?? ""} loading="lazy" />
              </div>
              <div class="task-meta">
                <strong>Task {t.id}</strong>
                <span class="muted">{a ? `${a.filename} · ${a.width}×${a.height}` : ""}</span>
                <span class="chip">{t.mode}</span>
              </div>
            </a>
          );
        })}
      </div>
      {total > PAGE && (
        <div class="pager">
          <button class="btn" disabled={offset === 0} onClick={() => setOffset(offset - PAGE)}>
            Previous
          </button>
          <span class="muted">
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <button class="btn" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </section>
  );
}

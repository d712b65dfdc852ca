/** The annotation workspace page: loads a task, then wires the engine, panel and autosave. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, call, type Asset, type Revision, type Task, type User } from "../api/client";
import { navigate } from "../router";
import { taskTarget } from "./autosave";
import { openImage } from "./source";
import type { SchemaDef } from "./types";
import { Workspace, type WorkspaceData } from "./workspace";

interface Loaded extends WorkspaceData {
  task: Task;
  asset: Asset;
  taskIds: number[];
}

/** The latest schema version's definition of a project. */
export async function latestSchema(projectId: number): Promise<SchemaDef> {
  const schemas = await call(api.GET("/api/projects/{project_id}/schemas", { params: { path: { project_id: projectId } } }));
  const latest = schemas[schemas.length - 1];
  return (latest?.definition ?? { classes: [] }) as unknown as SchemaDef;
}

async function load(projectId: number, taskId: number): Promise<Loaded> {
  const task = await call(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId } } }));
  const [asset, schema, tasks] = await Promise.all([
    call(api.GET("/api/projects/{project_id}/assets/{asset_id}", { params: { path: { project_id: projectId, asset_id: task.asset_id } } })),
    latestSchema(projectId),
    call(api.GET("/api/projects/{project_id}/tasks", { params: { path: { project_id: projectId }, query: { limit: 1000 } } })),
  ]);
  let revision: Revision | null = null;
  try {
    revision = await call(api.GET("/api/tasks/{task_id}/annotations", { params: { path: { task_id: taskId } } }));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const source = await openImage(projectId, asset);
  return { task, asset, schema, revision, source, target: taskTarget(taskId), taskIds: tasks.items.map((t) => t.id) };
}

export function WorkspacePage({ projectId, taskId, user }: { projectId: number; taskId: number; user: User }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    load(projectId, taskId).then(setData, (e: Error) => setError(e.message));
  }, [projectId, taskId]);

  return (
    <div class="workspace">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo" aria-hidden="true">◆</span> labelproof
        </a>
        <nav class="crumbs">
          <a href="#/projects">Projects</a> / <a href={`#/projects/${projectId}`}>Project {projectId}</a> /{" "}
          <span>
            Task {taskId}
            {data ? ` · ${data.asset.filename} (${data.asset.width}×${data.asset.height})` : ""}
          </span>
        </nav>
        <div class="spacer" />
        {data && <TaskNav ids={data.taskIds} taskId={taskId} projectId={projectId} />}
        <span class="who">{user.display_name || user.email}</span>
      </header>
      {error && <div class="alert error page-error">{error}</div>}
      {!data && !error && <div class="splash">Loading task…</div>}
      {data && <Workspace data={data} />}
    </div>
  );
}

function TaskNav({ ids, taskId, projectId }: { ids: number[]; taskId: number; projectId: number }) {
  const i = ids.indexOf(taskId);
  const go = (j: number) => navigate(`/projects/${projectId}/tasks/${ids[j]}`);
  return (
    <div class="task-nav">
      <button class="btn ghost small" disabled={i <= 0} onClick={() => go(i - 1)} title="Previous task">
        ‹ Prev
      </button>
      <span class="muted small">
        {i + 1} / {ids.length}
      </span>
      <button class="btn ghost small" disabled={i < 0 || i >= ids.length - 1} onClick={() => go(i + 1)} title="Next task">
        Next ›
      </button>
    </div>
  );
}


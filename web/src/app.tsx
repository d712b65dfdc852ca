/** The application shell: who is signed in, the top bar, and the routed page. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, call, type User } from "./api/client";
import { lazy, Suspense } from "preact/compat";
import { navigate, useRoute, type Route } from "./router";
import { LoginPage } from "./pages/login";
import { ProjectsPage } from "./pages/projects";
import { TasksPage } from "./pages/tasks";
import { WorkspacePage } from "./workspace/page";
import { AssignmentPage } from "./pages/qa/assignment";
import { EscalationsPage } from "./pages/qa/escalations";
import { FiguresPage } from "./pages/qa/figures";
import { QueuePage } from "./pages/qa/queue";
import { ReviewPage } from "./pages/qa/review";
import { ReviewsPage } from "./pages/qa/reviews";

const BenchPage = lazy(() => import("./workspace/bench").then((m) => ({ default: m.BenchPage })));

export function App() {
  const route = useRoute();
  if (route.name === "bench") {
    // The canvas benchmark (benchmarks/workspace.py): synthetic objects over a tile pyramid.
    return (
      <Suspense fallback={<div class="splash">Loading…</div>}>
        <BenchPage query={route.query} />
      </Suspense>
    );
  }
  return <Main route={route} />;
}

function Main({ route }: { route: Route }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    call(api.GET("/api/auth/me"))
      .then(setUser)
      .catch((err: unknown) => {
        setUser(null);
        if (!(err instanceof ApiError) || err.status !== 401) console.error(err);
      });
  }, []);

  useEffect(() => {
    if (user === null && route.name !== "login") navigate("/login");
  }, [user, route.name]);

  if (user === undefined) return <div class="splash">Loading…</div>;
  if (user === null || route.name === "login") {
    return (
      <LoginPage
        onSignedIn={(u) => {
          setUser(u);
          navigate("/projects");
        }}
      />
    );
  }

  const signOut = async () => {
    try {
      await call(api.POST("/api/auth/logout"));
    } finally {
      setUser(null);
      navigate("/login");
    }
  };

  if (route.name === "workspace") {
    return <WorkspacePage key={`${route.projectId}/${route.taskId}`} {...route} user={user} />;
  }
  if (route.name === "assignment") {
    return <AssignmentPage key={`${route.projectId}/a${route.assignmentId}`} {...route} user={user} />;
  }
  if (route.name === "review") {
    return <ReviewPage key={`${route.projectId}/r${route.assignmentId}/${route.stage}`} {...route} user={user} />;
  }
  const projectId = "projectId" in route ? route.projectId : null;
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo" aria-hidden="true">◆</span> labelproof
        </a>
        <nav class="crumbs">
          <a href="#/projects">Projects</a>
          {projectId !== null && (
            <span>
              / <a href={`#/projects/${projectId}`}>Project {projectId}</a>
            </span>
          )}
        </nav>
        <div class="spacer" />
        <span class="who" data-testid="who">{user.display_name || user.email}</span>
        <button class="btn ghost" onClick={signOut}>Sign out</button>
      </header>
      <main class="content">
        {route.name === "projects" && <ProjectsPage />}
        {route.name === "tasks" && <TasksPage projectId={route.projectId} />}
        {route.name === "queue" && <QueuePage key={route.projectId} projectId={route.projectId} />}
        {route.name === "reviews" && <ReviewsPage key={route.projectId} projectId={route.projectId} />}
        {route.name === "escalations" && <EscalationsPage key={route.projectId} projectId={route.projectId} />}
        {route.name === "figures" && <FiguresPage key={route.projectId} projectId={route.projectId} />}
        {route.name === "notFound" && (
          <div class="empty">
            <h2>Page not found</h2>
            <p>
              No page at <code>{route.path}</code>. <a href="#/projects">Back to projects</a>
            </p>
          </div>
        )}
      </main>
    </div>
  );
}

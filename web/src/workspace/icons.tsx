/** Toolbar icons (24px line icons). */
import type { ToolName } from "./tools/host";

const P: Record<ToolName, string> = {
  select: "M5 3l14 8-6 1.5L10 19z",
  box: "M4 6h16v12H4z",
  rotated_box: "M7 3l13 6-5 11L2 14z",
  polygon: "M4 9l7-6 9 5-3 12H7z",
  polyline: "M3 18l5-9 5 6 8-11",
  keypoints: "M12 4v6M12 10l-6 4M12 10l6 4M12 10v10",
  mask: "M4 20c4 0 4-4 8-4s6-9 8-12c-4 1-9 4-10 8-4 0-6 4-6 8z",
  cuboid: "M4 8l6-4h10v12l-6 4H4zM4 8h10v12M14 8l6-4",
  split: "M4 9l7-6 9 5-3 12H7zM3 21L21 3",
};

export function ToolIcon({ name }: { name: ToolName }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">
      <path d={P[name]} />
      {name === "keypoints" && <circle cx="12" cy="4" r="2" fill="currentColor" />}
    </svg>
  );
}

export function EyeIcon({ off }: { off: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
      <path d="M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z" />
      <circle cx="12" cy="12" r="3" />
      {off && <path d="M4 4l16 16" />}
    </svg>
  );
}

export function LockIcon({ on }: { on: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
      <rect x="5" y="11" width="14" height="10" rx="2" />
      <path d={on ? "M8 11V7a4 4 0 0 1 8 0v4" : "M8 11V7a4 4 0 0 1 7.5-2"} />
    </svg>
  );
}

/** Polygon operations on the selection (toolbar buttons beside the tools). */
export function ActionIcon({ name }: { name: "hole" | "split" | "merge" }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">
      {name === "hole" && (
        <>
          <path d="M3 8l8-5 10 5-3 13H6z" />
          <path d="M9 11h6v5H9z" stroke-dasharray="2 2" />
        </>
      )}
      {name === "split" && <path d="M4 9l7-6 9 5-3 12H7zM3 21L21 3" />}
      {name === "merge" && (
        <>
          <path d="M2 6h11v10H2z" />
          <path d="M9 10h13v11H9z" />
          <path d="M9 10v6h4v-6z" fill="currentColor" stroke="none" />
        </>
      )}
    </svg>
  );
}

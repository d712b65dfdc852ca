/**
 * Window/level (VOI) on modality values: the DICOM linear VOI function (PS3.3 C.11.2.1.2.1)
 * and the presets. No cornerstone import here: the workspace bundle loads this eagerly.
 */

export interface Window {
  center: number;
  width: number;
}

export interface Preset extends Window {
  name: string;
  label: string;
  /** Keyboard shortcut (Shift+digit would clash with classes; these are free letters). */
  key: string;
}

/**
 * CT presets (Hounsfield units). Lung 1500/-600, soft tissue 400/40 and brain 80/40 are the
 * common ones; bone 1800/400 (Radiopaedia "Windowing (CT)"; 2000/300 is the other common
 * choice). See docs/decisions/0008-dicom-viewer.md.
 */
export const PRESETS: Preset[] = [
  { name: "lung", label: "Lung", width: 1500, center: -600, key: "2" },
  { name: "bone", label: "Bone", width: 1800, center: 400, key: "3" },
  { name: "soft", label: "Soft tissue", width: 400, center: 40, key: "4" },
  { name: "brain", label: "Brain", width: 80, center: 40, key: "5" },
];

/** Lowest and highest modality value of the window's linear ramp (cornerstone's toLowHighRange). */
export function lowHigh(w: Window): { lower: number; upper: number } {
  const width = Math.max(1, w.width);
  return { lower: w.center - 0.5 - (width - 1) / 2, upper: w.center - 0.5 + (width - 1) / 2 };
}

/**
 * Display value 0..255 of modality value `x` under window `w` (linear VOI function:
 * y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clamped). `invert` for MONOCHROME1.
 */
export function display(x: number, w: Window, invert = false): number {
  const { lower, upper } = lowHigh(w);
  let y: number;
  if (x <= lower) y = 0;
  else if (x > upper) y = 255;
  else y = ((x - (w.center - 0.5)) / (Math.max(1, w.width) - 1 || 1) + 0.5) * 255;
  y = Math.max(0, Math.min(255, Math.round(y)));
  return invert ? 255 - y : y;
}

/** Window and level from the drag distance (px): right widens, down raises the level. */
export function dragged(start: Window, dx: number, dy: number, range: number): Window {
  const k = Math.max(1, range) / 512; // one screen px moves the window by 1/512 of the range
  return { width: Math.max(1, Math.round(start.width + dx * k)), center: Math.round(start.center + dy * k) };
}

/**
 * The DICOM controls: window/level presets, the W/L readout and drag adjustment, and
 * frame scrolling (slider, , / . and PageUp / PageDown, Shift+wheel). `attachDicom` wires
 * a stack to the engine and document; `DicomBar` is the bar above the canvas.
 */
import { useEffect, useState } from "preact/hooks";
import type { Doc } from "../workspace/doc";
import type { Engine } from "../workspace/engine";
import type { DicomStack, WindowChoice } from "./stack";
import { PRESETS, dragged, type Window } from "./wl";
import "./dicom.css";

/** Shortcut rows for the help overlay. */
export const DICOM_SHORTCUTS: [string, string][] = [
  ["W+drag", "DICOM: window/level (right = wider, down = higher level)"],
  ["Shift+W / 0", "DICOM: next window preset / the file's window"],
  [", / .", "DICOM: previous / next frame (also PageUp / PageDown, Shift+wheel)"],
];

const CHOICES: WindowChoice[] = ["default", ...PRESETS.map((p) => p.name)];

function typing(e: Event): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA") && (t as HTMLInputElement).type !== "range";
}

/** Mode flag shared by the bar's toggle and the W key: left drag adjusts the window. */
class DragMode {
  held = false; // W key down
  toggled = false; // the bar's button
  get on(): boolean {
    return this.held || this.toggled;
  }
}

const modes = new WeakMap<DicomStack, DragMode>();
const modeOf = (s: DicomStack) => {
  let m = modes.get(s);
  if (!m) modes.set(s, (m = new DragMode()));
  return m;
};

/**
 * Connect a DICOM stack to the engine: redraw on window/frame changes, filter shapes by
 * frame (multi-frame assets), drag adjustment, keys and Shift+wheel. Returns the undo.
 */
export function attachDicom(stack: DicomStack, engine: Engine, doc: Doc): () => void {
  const stage = engine.canvases.overlay.parentElement!;
  const mode = modeOf(stack);
  stack.onRedraw = () => engine.request("image");
  if (stack.frames > 1) doc.setFrame(stack.frame);
  doc.frameRequest = stack.frames > 1 ? (k) => void stack.setFrame(k) : null;
  const off = stack.on(() => {
    if (stack.frames > 1 && doc.frame !== stack.frame) doc.setFrame(stack.frame);
    stage.classList.toggle("wl-drag", mode.on && stack.windowed);
  });
  let drag: { x: number; y: number; start: Window; id: number } | null = null;
  // One window render per animation frame while dragging (a 2048² frame takes ~60 ms here).
  let next: Window | null = null;
  let raf = 0;
  const apply = () => {
    raf = 0;
    if (next) stack.setWindow(next);
    next = null;
  };
  const down = (e: PointerEvent) => {
    if (!mode.on || !stack.windowed || e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    stage.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, start: { ...stack.window }, id: e.pointerId };
  };
  const move = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.id) return;
    e.stopPropagation();
    next = dragged(drag.start, e.clientX - drag.x, e.clientY - drag.y, stack.range);
    raf ||= requestAnimationFrame(apply);
  };
  const up = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.id) return;
    e.stopPropagation();
    drag = null;
    stage.releasePointerCapture(e.pointerId);
    cancelAnimationFrame(raf);
    apply(); // the last position counts
  };
  const wheel = (e: WheelEvent) => {
    if (!e.shiftKey || stack.frames < 2) return;
    e.stopPropagation();
    e.preventDefault();
    const d = e.deltaY || e.deltaX; // Shift turns the vertical wheel horizontal on some systems
    if (d) void stack.setFrame((stack.pending ?? stack.frame) + (d > 0 ? 1 : -1));
  };
  const key = (e: KeyboardEvent) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (e.type === "keyup") {
      if (k === "w" && mode.held) {
        mode.held = false;
        stage.classList.toggle("wl-drag", mode.on && stack.windowed);
      }
      return;
    }
    const step = (d: number) => void stack.setFrame((stack.pending ?? stack.frame) + d);
    let used = true;
    if (k === "w" && e.shiftKey) {
      const i = CHOICES.indexOf(stack.choice);
      stack.preset(CHOICES[(i + 1) % CHOICES.length]);
    } else if (k === "w") {
      mode.held = true;
      stage.classList.toggle("wl-drag", stack.windowed);
    } else if (e.key === "0") stack.preset("default");
    else if (e.key === "," && stack.frames > 1) step(-1);
    else if (e.key === "." && stack.frames > 1) step(1);
    else if ((e.key === "PageUp" || e.key === "PageDown") && stack.frames > 1 && !doc.selected) step(e.key === "PageUp" ? -1 : 1);
    else used = false;
    if (used) e.preventDefault();
  };
  stage.addEventListener("pointerdown", down, true);
  stage.addEventListener("pointermove", move, true);
  stage.addEventListener("pointerup", up, true);
  stage.addEventListener("pointercancel", up, true);
  stage.addEventListener("wheel", wheel, { capture: true, passive: false });
  const blur = () => {
    mode.held = false; // the W key's release may happen in another window
    stage.classList.toggle("wl-drag", mode.on && stack.windowed);
  };
  window.addEventListener("keydown", key);
  window.addEventListener("keyup", key);
  window.addEventListener("blur", blur);
  return () => {
    cancelAnimationFrame(raf);
    off();
    doc.frameRequest = null;
    stack.onRedraw = () => {};
    stage.removeEventListener("pointerdown", down, true);
    stage.removeEventListener("pointermove", move, true);
    stage.removeEventListener("pointerup", up, true);
    stage.removeEventListener("pointercancel", up, true);
    stage.removeEventListener("wheel", wheel, true);
    window.removeEventListener("keydown", key);
    window.removeEventListener("keyup", key);
    window.removeEventListener("blur", blur);
  };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export function DicomBar({ stack }: { stack: DicomStack }) {
  const [, setTick] = useState(0);
  useEffect(() => stack.on(() => setTick((t) => t + 1)), [stack]);
  const mode = modeOf(stack);
  const { info } = stack;
  const shown = stack.pending ?? stack.frame;
  return (
    <div class="dicom-bar" data-testid="dicom-bar" data-frame={stack.frame} data-frames={stack.frames}>
      <span class="muted" title={`${info.photometric} · transfer syntax ${info.transferSyntax}`}>
        DICOM {info.modality} {info.width}×{info.height}
      </span>
      {stack.windowed ? (
        <>
          <div class="group" role="group" aria-label="Window presets">
            {CHOICES.map((c) => {
              const p = PRESETS.find((q) => q.name === c);
              return (
                <button
                  key={c}
                  class="btn"
                  data-testid={`wl-preset-${c}`}
                  aria-pressed={stack.choice === c}
                  title={p ? `${p.label}: W ${p.width} / L ${p.center}` : "The file's own window (0)"}
                  onClick={() => stack.preset(c)}
                >
                  {p ? p.label : "Default"}
                </button>
              );
            })}
          </div>
          <span class="wl" data-testid="wl-value" data-center={stack.window.center} data-width={stack.window.width}>
            W {fmt(stack.window.width)} · L {fmt(stack.window.center)}
          </span>
          <button
            class="btn"
            data-testid="wl-drag"
            aria-pressed={mode.toggled}
            title="Drag on the image to change the window (or hold W and drag)"
            onClick={() => {
              mode.toggled = !mode.toggled;
              setTick((t) => t + 1);
              stack.setWindow(stack.window, stack.choice); // refresh the cursor class
            }}
          >
            ◐ Drag W/L
          </button>
        </>
      ) : (
        <span class="muted">{info.photometric}: shown as stored (no window)</span>
      )}
      {stack.frames > 1 && (
        <div class="group">
          <button class="btn" aria-label="Previous frame" title="Previous frame (,)" disabled={shown <= 0} onClick={() => void stack.setFrame(shown - 1)}>
            ‹
          </button>
          <input
            type="range"
            min={1}
            max={stack.frames}
            value={shown + 1}
            aria-label="Frame"
            data-testid="frame-slider"
            onInput={(e) => void stack.setFrame(Number((e.target as HTMLInputElement).value) - 1)}
          />
          <button class="btn" aria-label="Next frame" title="Next frame (.)" disabled={shown >= stack.frames - 1} onClick={() => void stack.setFrame(shown + 1)}>
            ›
          </button>
          <span class="frame" data-testid="frame-label">
            {shown + 1} / {stack.frames}
            {stack.pending !== null ? " …" : ""}
          </span>
        </div>
      )}
      {stack.error && <span class="err">{stack.error}</span>}
    </div>
  );
}

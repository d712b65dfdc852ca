/** What a tool may use of the workspace engine. */
import type { Doc } from "../doc";
import type { MaskCache } from "../masks";
import type { AnnType, Annotation, ClassDef, Pt, Skeleton } from "../types";
import type { View } from "../view";

export type ToolName =
  | "select"
  | "box"
  | "rotated_box"
  | "polygon"
  | "polyline"
  | "keypoints"
  | "mask"
  | "cuboid"
  | "split";

export interface PointerInfo {
  /** Image px (unclamped). */
  x: number;
  y: number;
  /** Screen CSS px, relative to the canvas. */
  sx: number;
  sy: number;
  button: number;
  shift: boolean;
  alt: boolean;
  ctrl: boolean;
  /** Click count (2 on the second press of a double click). */
  detail: number;
}

export interface ToolHost {
  readonly doc: Doc;
  readonly view: View;
  readonly masks: MaskCache;
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** The class new objects get. */
  currentClass(): ClassDef | undefined;
  classOf(label: string): ClassDef | undefined;
  color(label: string): string;
  skeleton(label: string): Skeleton | undefined;
  /** Clamp into the image and round to 0.01 px. */
  clampPt(x: number, y: number): Pt;
  /** Make and add a new object of the current class; null (and a notice) if not allowed. */
  create(type: AnnType, geometry: unknown): Annotation | null;
  hitTest(x: number, y: number): Annotation | null;
  notify(message: string): void;
  redrawOverlay(): void;
  redrawShapes(): void;
  setTool(name: ToolName): void;
  /** Screen-px tolerance for picking, in image px. */
  tolerance(): number;
}

export interface Tool {
  readonly name: ToolName;
  readonly cursor: string;
  /** A drawing is in progress (Esc cancels it, Enter finishes it). */
  readonly busy: boolean;
  /** True when the press was used; false lets the engine pan instead. */
  down(p: PointerInfo): boolean;
  move(p: PointerInfo): void;
  up(p: PointerInfo): void;
  key?(e: KeyboardEvent): boolean;
  overlay(ctx: CanvasRenderingContext2D): void;
  cancel(): void;
  finish(): void;
  /** An object the tool is editing (drawn by the tool, not by the shapes layer). */
  editing?(): string | null;
  /** A status line for the help bar. */
  hint(): string;
}

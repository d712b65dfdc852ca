/** The annotation model as the revision API carries it (see docs/workspace.md). */

export type AnnType =
  | "tag"
  | "box"
  | "rotated_box"
  | "polygon"
  | "polyline"
  | "mask"
  | "keypoints"
  | "cuboid";

export const ANN_TYPES: AnnType[] = [
  "tag",
  "box",
  "rotated_box",
  "polygon",
  "polyline",
  "mask",
  "keypoints",
  "cuboid",
];

export type Pt = [number, number];

export interface BoxGeom {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface RotatedBoxGeom {
  cx: number;
  cy: number;
  w: number;
  h: number;
  angle: number;
}
export interface PolygonGeom {
  points: Pt[];
  holes: Pt[][];
}
export interface PolylineGeom {
  points: Pt[];
}
export interface KeypointsGeom {
  points: [number, number, number][];
}
export interface RleGeom {
  rle: { size: [number, number]; counts: string };
}
export interface CuboidGeom {
  center: [number, number, number];
  size: [number, number, number];
  rotation: [number, number, number];
  projection?: Pt[];
}

export interface Annotation {
  id: string;
  type: AnnType;
  label: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  geometry: any;
  attributes: Record<string, unknown>;
  source: "human" | "model";
  confidence: number | null;
  z_order: number;
  /** Multi-frame (DICOM) assets: the 0-based frame the object is drawn on; absent = 0. */
  frame?: number;
}

export interface AttrDef {
  name: string;
  kind: "text" | "number" | "bool" | "select";
  options?: string[];
  required?: boolean;
  default?: unknown;
}

export interface Skeleton {
  keypoints: string[];
  edges: [number, number][];
}

export interface ClassDef {
  name: string;
  types: AnnType[];
  attributes?: AttrDef[];
  skeleton?: Skeleton;
}

export interface SchemaDef {
  classes: ClassDef[];
}

export interface ImageInfo {
  width: number;
  height: number;
}

/** A fresh annotation id (the API accepts 1-128 of A-Z a-z 0-9 . _ : -). */
export function newId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Default attribute values for a class: each attribute's default, else nothing. */
export function defaultAttributes(cls: ClassDef | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of cls?.attributes ?? []) {
    if (a.default !== undefined && a.default !== null) out[a.name] = a.default;
    else if (a.kind === "bool") out[a.name] = false;
    else if (a.kind === "select" && a.required && a.options?.length) out[a.name] = a.options[0];
    else if (a.kind === "text" && a.required) out[a.name] = "";
    else if (a.kind === "number" && a.required) out[a.name] = 0;
  }
  return out;
}

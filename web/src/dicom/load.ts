/**
 * The lazily loaded part of the viewer: cornerstone3D's DICOM image loader decodes a frame
 * (every transfer syntax it supports, in its web worker with the WASM codecs) and
 * cornerstone's metadata gives the header facts. Only `source.ts` imports this module, with
 * a dynamic import, so the workspace bundle does not carry cornerstone.
 */
import * as core from "@cornerstonejs/core";
import * as loader from "@cornerstonejs/dicom-image-loader";
import { utilities as metadataUtilities } from "@cornerstonejs/metadata";
import { inflated, transferSyntax } from "./deflate";
import type { DecodedFrame, DicomFile, DicomInfo } from "./types";
import type { Window } from "./wl";

let ready: Promise<void> | null = null;
/** The workspace shows one DICOM file at a time: opening the next one frees this one. */
let current: DicomFile | null = null;

function init(): Promise<void> {
  ready ??= (async () => {
    await core.init();
    loader.init({ maxWebWorkers: 1 });
  })();
  return ready;
}

const first = (v: unknown): number | null => {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === "string" ? Number(x) : x;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
};

/** The header as cornerstone's loader parsed it (naturalized: keyword -> value). */
type Natural = Record<string, unknown>;

/** The number of frames (NumberOfFrames, 1 when absent). */
function frameCount(nat: Natural): number {
  const n = first(nat.NumberOfFrames);
  return n && n > 1 ? Math.floor(n) : 1;
}

const text = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? "") : v == null ? "" : String(v)).trim();

function toFrame(image: core.Types.IImage): DecodedFrame {
  const width = image.columns;
  const height = image.rows;
  const n = width * height;
  const px = image.getPixelData() as ArrayLike<number>;
  if (image.color) {
    const rgba = new Uint8ClampedArray(n * 4);
    const k = px.length >= n * 4 ? 4 : 3;
    for (let i = 0, j = 0; i < n; i++, j += k) {
      rgba[i * 4] = px[j];
      rgba[i * 4 + 1] = px[j + 1];
      rgba[i * 4 + 2] = px[j + 2];
      rgba[i * 4 + 3] = 255;
    }
    return { width, height, values: null, rgba, min: 0, max: 255, integer: true };
  }
  // The loader applies the rescale in its worker (preScale) unless it could not; then here.
  const scaled = image.preScale?.scaled === true;
  const slope = scaled ? 1 : (image.slope ?? 1);
  const intercept = scaled ? 0 : (image.intercept ?? 0);
  const values = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = px[i] * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const integer = !(px instanceof Float32Array || px instanceof Float64Array) && Number.isInteger(slope) && Number.isInteger(intercept);
  return { width, height, values, rgba: null, min, max, integer };
}

/** Open a DICOM Part 10 file (its bytes) for decoding frame by frame. */
export async function openDicom(bytes: Blob): Promise<DicomFile> {
  await init();
  current?.close();
  current = null;
  const raw = new Uint8Array(await bytes.arrayBuffer());
  const plain = await inflated(raw);
  const base = loader.wadouri.fileManager.add(new Blob([plain as BlobPart]));
  const index = Number(base.slice(base.indexOf(":") + 1));
  const idOf = (k: number) => `${base}?frame=${k + 1}`;
  const load = async (k: number) => (await core.imageLoader.loadImage(idOf(k))) as core.Types.IImage;
  const image0 = await load(0);
  const nat = ((image0 as unknown as { data?: Natural }).data ?? {}) as Natural;
  const photometric = text(nat.PhotometricInterpretation) || "MONOCHROME2";
  const c = first(image0.windowCenter);
  const w = first(image0.windowWidth);
  const window: Window | null = c !== null && w !== null && w > 0 ? { center: c, width: w } : null;
  const info: DicomInfo = {
    width: image0.columns,
    height: image0.rows,
    frames: frameCount(nat),
    photometric,
    color: !!image0.color,
    invert: photometric === "MONOCHROME1",
    modality: text(nat.Modality),
    window,
    transferSyntax: transferSyntax(raw) || text(nat.TransferSyntaxUID),
  };
  const firstFrame = toFrame(image0);
  let closed = false;
  const file: DicomFile = {
    info,
    async decode(k: number): Promise<DecodedFrame> {
      if (k < 0 || k >= info.frames) throw new Error(`frame ${k} is outside 0..${info.frames - 1}`);
      if (closed) throw new Error("the file was closed (another DICOM asset was opened)");
      if (k === 0) return firstFrame;
      return toFrame(await load(k)); // imageLoader.loadImage does not cache: the stack does
    },
    close(): void {
      if (closed) return;
      closed = true;
      loader.wadouri.fileManager.remove(index);
      metadataUtilities.clearCacheData(); // the parsed header and its frames' bytes
      if (current === file) current = null;
    },
  };
  current = file;
  return file;
}

/**
 * Opening a DICOM asset for the workspace: download the (de-identified) file, load
 * cornerstone on demand (dynamic import: the main bundle stays small), decode frame 0 and
 * wrap it in a {@link DicomStack}, the workspace's image layer for this asset.
 */
import { contentUrl } from "../api/client";
import type { ImageSource } from "../workspace/source";
import { DicomStack } from "./stack";
import type { Window } from "./wl";

export const DICOM_TYPE = "application/dicom";

/** media_meta.window of an asset record, when it names a usable one. */
function metaWindow(meta: unknown): Window | null {
  const w = (meta as { window?: { center?: unknown; width?: unknown } | null } | null | undefined)?.window;
  const c = Number(w?.center);
  const wd = Number(w?.width);
  return w && Number.isFinite(c) && Number.isFinite(wd) && wd > 0 ? { center: c, width: wd } : null;
}

export async function openDicomBytes(bytes: Blob, meta?: unknown): Promise<DicomStack> {
  const { openDicom } = await import("./load");
  const file = await openDicom(bytes);
  const first = await file.decode(0);
  return new DicomStack(file, first, metaWindow(meta));
}

export async function openDicomAsset(projectId: number, asset: { id: number; media_meta?: unknown }): Promise<ImageSource> {
  const url = contentUrl(projectId, asset.id);
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`asset ${asset.id}: the DICOM file could not be downloaded (HTTP ${res.status})`);
  const stack = await openDicomBytes(await res.blob(), asset.media_meta);
  const image = await stack.snapshot();
  return {
    layer: stack,
    width: stack.width,
    height: stack.height,
    preview: { image, width: stack.width, height: stack.height },
    tiled: false,
    dicom: stack,
  };
}

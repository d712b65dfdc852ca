/**
 * The picture under the vectors: the whole image for ordinary assets, the server's Deep
 * Zoom pyramid (`tiles.ts`) for assets larger than {@link TILE_THRESHOLD} px on a side,
 * whole slides and formats a browser cannot decode (TIFF); DICOM through web/src/dicom/.
 * Either way the vector layer works in full-resolution pixel coordinates.
 */
import { api, call, contentUrl, thumbnailUrl, tileUrl } from "../api/client";
import { DICOM_TYPE, openDicomAsset } from "../dicom/open";
import type { DicomStack } from "../dicom/stack";
import type { PreviewImage } from "./conflict";
import { PlainImage, type ImageLayer } from "./layers";
import { TileLayer } from "./tiles";

/** Assets with a side larger than this (px) open through the tile layer. */
export const TILE_THRESHOLD = 4096;

/** Media types a browser decodes itself; anything else (TIFF) is shown from its tiles. */
const BROWSER_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif"]);

/** Whether an asset is shown from the server's tile pyramid rather than as one image. */
export function showsTiled(asset: { width: number; height: number; media_type?: string; media_meta?: unknown }): boolean {
  const kind = (asset.media_meta as { kind?: unknown } | null | undefined)?.kind;
  if (kind === "slide") return true; // a whole slide at any size: the file is not an image a browser reads
  if (asset.media_type !== undefined && !BROWSER_TYPES.has(asset.media_type)) return true;
  return Math.max(asset.width, asset.height) > TILE_THRESHOLD;
}

export interface ImageSource {
  layer: ImageLayer;
  /** Full-resolution size in px. */
  width: number;
  height: number;
  /** The whole image, small enough to draw in one go (the conflict view's previews). */
  preview: PreviewImage;
  tiled: boolean;
  /** DICOM assets: the frame and window/level state (web/src/dicom/). */
  dicom?: DicomStack;
}

async function decoded(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

/** Open asset `asset.id` of `projectId` at its full resolution `width` x `height`. */
export async function openImage(
  projectId: number,
  asset: { id: number; width: number; height: number; media_type?: string; media_meta?: unknown },
): Promise<ImageSource> {
  if (asset.media_type === undefined) {
    // Callers that know only the id and size (a QA assignment): the record says the type.
    const params = { path: { project_id: projectId, asset_id: asset.id } };
    const rec = await call(api.GET("/api/projects/{project_id}/assets/{asset_id}", { params }));
    asset = { ...asset, media_type: rec.media_type, media_meta: (rec as { media_meta?: unknown }).media_meta };
  }
  if (asset.media_type === DICOM_TYPE) return openDicomAsset(projectId, asset);
  if (!showsTiled(asset)) {
    const img = await decoded(contentUrl(projectId, asset.id));
    const preview = { image: img, width: img.naturalWidth, height: img.naturalHeight };
    return { layer: new PlainImage(img), width: img.naturalWidth, height: img.naturalHeight, preview, tiled: false };
  }
  const spec = await call(
    api.GET("/api/projects/{project_id}/assets/{asset_id}/tiles", {
      params: { path: { project_id: projectId, asset_id: asset.id } },
    }),
  );
  const width = Number(spec.width);
  const height = Number(spec.height);
  const layer = new TileLayer({
    width,
    height,
    tile: Number(spec.tile_size),
    url: (l, c, r) => tileUrl(projectId, asset.id, l, c, r),
  });
  if (layer.maxLevel !== Number(spec.max_level)) {
    throw new Error(`tile pyramid of asset ${asset.id}: max_level ${spec.max_level}, expected ${layer.maxLevel}`);
  }
  const thumb = await decoded(thumbnailUrl(projectId, asset.id, 1024));
  return { layer, width, height, preview: { image: thumb, width, height }, tiled: true };
}

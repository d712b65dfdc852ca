/** What the DICOM viewer passes around (no cornerstone import: the main bundle loads this). */
import type { Window } from "./wl";

/** One decoded frame in full-resolution pixels. */
export interface DecodedFrame {
  width: number;
  height: number;
  /** Grayscale: the modality values (stored values after rescale slope and intercept). */
  values: Float32Array | null;
  /** Colour (RGB, YBR, palette): RGBA bytes, drawn without window/level. */
  rgba: Uint8ClampedArray | null;
  /** Smallest and largest modality value (grayscale) or 0..255 (colour). */
  min: number;
  max: number;
  /** Every modality value is an integer (integer stored values, slope and intercept). */
  integer: boolean;
}

export interface DicomInfo {
  width: number;
  height: number;
  frames: number;
  photometric: string;
  color: boolean;
  /** MONOCHROME1: low values are bright. */
  invert: boolean;
  modality: string;
  /** The file's own window (first value of Window Center/Width), null when it has none. */
  window: Window | null;
  transferSyntax: string;
}

/** An opened DICOM file: its header facts and a decoder for frame k (0-based). */
export interface DicomFile {
  info: DicomInfo;
  decode(frame: number): Promise<DecodedFrame>;
  close(): void;
}

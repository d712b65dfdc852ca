/**
 * Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): cornerstone's loader (5.x,
 * naturalized metadata path) does not inflate it, so the file is rewritten here as plain
 * Explicit VR Little Endian before the loader sees it: the meta group (never deflated) is
 * copied with the transfer syntax replaced and its group length recomputed, and the rest is
 * inflated (raw deflate, RFC 1951, as PS3.5 A.5 says).
 */
import pako from "pako";

export const DEFLATED = "1.2.840.10008.1.2.1.99";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const LONG_VR = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"]);

interface Element {
  group: number;
  element: number;
  vr: string;
  /** The whole element (tag, VR, length, value). */
  raw: Uint8Array;
  value: Uint8Array;
}

function metaElements(b: Uint8Array): { elements: Element[]; end: number } | null {
  if (b.length < 132 || String.fromCharCode(b[128], b[129], b[130], b[131]) !== "DICM") return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const elements: Element[] = [];
  let p = 132;
  while (p + 8 <= b.length && dv.getUint16(p, true) === 0x0002) {
    const element = dv.getUint16(p + 2, true);
    const vr = String.fromCharCode(b[p + 4], b[p + 5]);
    let len: number;
    let head: number;
    if (LONG_VR.has(vr)) {
      len = dv.getUint32(p + 8, true);
      head = 12;
    } else {
      len = dv.getUint16(p + 6, true);
      head = 8;
    }
    const end = p + head + len;
    if (end > b.length) return null;
    elements.push({ group: 2, element, vr, raw: b.subarray(p, end), value: b.subarray(p + head, end) });
    p = end;
  }
  return { elements, end: p };
}

const ascii = (v: Uint8Array) => String.fromCharCode(...v).replace(/[\0 ]+$/, "");

/** The file's transfer syntax UID from its meta group ("" when it has none). */
export function transferSyntax(b: Uint8Array): string {
  const m = metaElements(b);
  const ts = m?.elements.find((e) => e.element === 0x0010);
  return ts ? ascii(ts.value) : "";
}

/**
 * Raw inflate with pako (the loader's own inflater): it stops at the end of the deflate
 * stream, where the browser's DecompressionStream fails on bytes after it (pydicom's
 * image_dfl.dcm has 8) before it has given all its output.
 */
function inflateRaw(data: Uint8Array): Uint8Array {
  return pako.inflateRaw(data);
}

/** The file as Explicit VR Little Endian when it is deflated; otherwise the same bytes. */
export async function inflated(b: Uint8Array): Promise<Uint8Array> {
  const m = metaElements(b);
  if (!m || transferSyntax(b) !== DEFLATED) return b;
  const parts: Uint8Array[] = [];
  for (const e of m.elements) {
    if (e.element === 0x0000) continue; // group length: recomputed below
    if (e.element !== 0x0010) {
      parts.push(e.raw);
      continue;
    }
    const uid = new TextEncoder().encode(EXPLICIT_LE + "\0"); // even length, NUL padded
    const el = new Uint8Array(8 + uid.length);
    const dv = new DataView(el.buffer);
    dv.setUint16(0, 0x0002, true);
    dv.setUint16(2, 0x0010, true);
    el[4] = 0x55; // "U"
    el[5] = 0x49; // "I"
    dv.setUint16(6, uid.length, true);
    el.set(uid, 8);
    parts.push(el);
  }
  const groupLength = parts.reduce((n, p) => n + p.length, 0);
  const gl = new Uint8Array(12);
  const gdv = new DataView(gl.buffer);
  gdv.setUint16(0, 0x0002, true);
  gdv.setUint16(2, 0x0000, true);
  gl[4] = 0x55; // "U"
  gl[5] = 0x4c; // "L"
  gdv.setUint16(6, 4, true);
  gdv.setUint32(8, groupLength, true);
  const body = inflateRaw(b.subarray(m.end));
  const out = new Uint8Array(132 + gl.length + groupLength + body.length);
  out.set(b.subarray(0, 132), 0);
  let p = 132;
  for (const part of [gl, ...parts, body]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/**
 * COCO run-length encoding of binary masks, as pycocotools stores them.
 *
 * A mask of `height` x `width` pixels is a Uint8Array (1 = inside) in row-major order
 * (index y * width + x), the layout of canvas ImageData. COCO's runs are column-major
 * (index x * height + y), alternate 0-runs and 1-runs, and start with a (possibly empty)
 * 0-run. The compressed string codes each run, minus the run two before it from the
 * third run on, in little-endian groups of 5 bits plus a continue bit (0x20) and a sign
 * bit (0x10) on the last group, each group offset by 48 into printable ASCII.
 * Arithmetic uses Number (not 32-bit shifts), exact for counts below 2^53.
 */

/** Column-major run lengths of a row-major mask (H*W values). */
export function maskToCounts(mask: Uint8Array, height: number, width: number): number[] {
  if (mask.length !== height * width) {
    throw new Error(`mask has ${mask.length} pixels, expected ${height}x${width}`);
  }
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0, i = x; y < height; y++, i += width) {
      const v = mask[i] ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** Row-major mask (H*W) from column-major run lengths. */
export function countsToMask(counts: number[], height: number, width: number): Uint8Array {
  const mask = new Uint8Array(height * width);
  let pos = 0;
  let v = 0;
  for (const run of counts) {
    if (v) {
      for (let k = pos; k < pos + run; k++) {
        const x = Math.floor(k / height);
        mask[(k - x * height) * width + x] = 1;
      }
    }
    pos += run;
    v ^= 1;
  }
  if (pos !== height * width) {
    throw new Error(`runs cover ${pos} pixels, expected ${height * width}`);
  }
  return mask;
}

/** pycocotools' rleToString: runs to the compressed ASCII string. */
export function countsToString(counts: number[]): string {
  let out = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      const c0 = ((x % 32) + 32) % 32; // low 5 bits, two's complement
      x = (x - c0) / 32; // arithmetic shift right by 5
      more = c0 & 0x10 ? x !== -1 : x !== 0;
      const c = more ? c0 | 0x20 : c0;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** pycocotools' rleFrString: the compressed string back to runs. */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    let scale = 1;
    while (more) {
      if (p >= s.length) throw new Error("truncated RLE string");
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`bad RLE character at ${p}`);
      x += (c & 0x1f) * scale;
      more = (c & 0x20) !== 0;
      p++;
      k++;
      scale *= 32;
      if (!more && c & 0x10) x -= scale; // sign-extend
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

export function encodeMask(mask: Uint8Array, height: number, width: number) {
  return { size: [height, width] as [number, number], counts: countsToString(maskToCounts(mask, height, width)) };
}

export function decodeMask(rle: { size: [number, number]; counts: string }): Uint8Array {
  const [h, w] = rle.size;
  return countsToMask(stringToCounts(rle.counts), h, w);
}

"""Label Studio's brush RLE (the thi.ng ``rle-pack`` bit stream over RGBA bytes).

Stream layout, most significant bit first: ``num`` (32 bits, number of values = H*W*4),
``wordSize - 1`` (5 bits), four run-length field sizes minus one (4 bits each), then
chunks: a flag bit (1 = repeat), a 2-bit size class, ``run - 1`` in that class's bits, then
one value (repeat) or ``run`` values (literal), each ``wordSize`` bits. Label Studio uses
8-bit words and size classes 3, 4, 8, 16 bits; the mask is the alpha channel (> 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SIZES = (3, 4, 8, 16)


def _runs(values: NDArray[np.uint8]) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    change = np.flatnonzero(np.diff(values.astype(np.int16))) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    lengths = np.diff(np.concatenate([starts, [values.size]])).astype(np.int64)
    return lengths, values[starts]


def encode(bits: NDArray[np.bool_]) -> list[int]:
    """Label Studio RLE (list of byte values) of an (H, W) bool mask (RGBA 255 where set)."""
    flat = np.repeat(np.where(bits.ravel(), 255, 0).astype(np.uint8), 4)
    out: list[str] = [format(flat.size, "032b"), format(7, "05b")]
    out += [format(s - 1, "04b") for s in SIZES]
    if flat.size:
        lengths, vals = _runs(flat)
        for length, v in zip(lengths.tolist(), vals.tolist(), strict=True):
            while length > 0:
                n = min(length, 1 << SIZES[-1])
                cls = next(i for i, s in enumerate(SIZES) if n - 1 < (1 << s))
                out.append("1" + format(cls, "02b") + format(n - 1, f"0{SIZES[cls]}b"))
                out.append(format(v, "08b"))
                length -= n
    text = "".join(out)
    text += "0" * (-len(text) % 8)
    return list(int(text, 2).to_bytes(len(text) // 8, "big")) if text else []


def decode(rle: list[int], height: int, width: int) -> NDArray[np.bool_]:
    """(H, W) bool mask (alpha > 0) of a Label Studio RLE; ValueError when malformed."""
    if any((not isinstance(b, int)) or b < 0 or b > 255 for b in rle):
        raise ValueError("rle must be a list of byte values 0..255")
    bits = np.unpackbits(np.asarray(rle, dtype=np.uint8))
    pos = 0

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > bits.size:
            raise ValueError("rle is truncated")
        chunk = bits[pos : pos + n]
        pos += n
        return int("".join("1" if b else "0" for b in chunk.tolist()), 2) if n else 0

    num = read(32)
    if num != height * width * 4:
        raise ValueError(f"rle holds {num} values, the image needs {height * width * 4}")
    word = read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(num, np.uint8)
    i = 0
    while i < num:
        repeat = read(1)
        j = i + 1 + read(sizes[read(2)])
        if j > num:
            raise ValueError("rle run overflows the image")
        if repeat:
            out[i:j] = read(word)
        else:
            for k in range(i, j):
                out[k] = read(word)
        i = j
    return out.reshape(height, width, 4)[:, :, 3] > 0

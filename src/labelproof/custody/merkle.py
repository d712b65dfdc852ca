"""RFC 6962 Merkle tree: roots, inclusion proofs and consistency proofs.

Hashing follows RFC 6962 §2.1 (the Certificate Transparency tree), SHA-256 throughout:

- leaf hash ``SHA-256(0x00 || data)``; node hash ``SHA-256(0x01 || left || right)``;
- the hash of the empty tree is ``SHA-256(b"")``;
- a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``.

Proofs are generated per RFC 6962 §2.1.1 (audit path) and §2.1.2 (consistency) and verified
with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, which need nothing but the proof.

Speed: :class:`MerkleTree` hashes the tree level by level over one contiguous byte buffer per
level (a numpy-built ``(m, 65)`` array of ``0x01 || left || right`` rows, hashed in a tight
loop), and keeps only *complete* subtrees. The root of any prefix ``0 < size <= n`` is then
folded from at most ``log2(n)`` stored subtree hashes, so a verifier that checks many signed
checkpoints of one log pays for the tree once. All hashes are 32-byte ``bytes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from labelproof.errors import InvalidInput

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleFrontier",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one leaf (RFC 6962 §2.1)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node (RFC 6962 §2.1)."""
    return _sha256(b"\x01" + left + right).digest()


def _hash_rows(buf: bytes, width: int) -> bytes:
    """Hash each ``width``-byte row of ``buf``; returns the digests concatenated (32 B each)."""
    h = _sha256
    return b"".join([h(buf[i : i + width]).digest() for i in range(0, len(buf), width)])


def _packed_leaf_hashes(packed: bytes, width: int) -> bytes:
    """Leaf hashes of ``len(packed) // width`` leaves of ``width`` bytes each, concatenated."""
    n = len(packed) // width
    rows = np.empty((n, width + 1), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = np.frombuffer(packed, dtype=np.uint8, count=n * width).reshape(n, width)
    return _hash_rows(rows.tobytes(), width + 1)


def _leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """Leaf hashes of ``leaves`` concatenated, ``32 * len(leaves)`` bytes."""
    lengths = set(map(len, leaves))
    if len(lengths) == 1:
        width = lengths.pop()
        if width:
            return _packed_leaf_hashes(b"".join(leaves), width)
    h = _sha256
    return b"".join([h(b"\x00" + bytes(x)).digest() for x in leaves])


def _next_level(level: bytes) -> bytes:
    """Parents of the complete pairs of ``level`` (32-byte hashes concatenated)."""
    pairs = len(level) // (2 * HASH_SIZE)
    if pairs == 0:
        return b""
    rows = np.empty((pairs, 2 * HASH_SIZE + 1), dtype=np.uint8)
    rows[:, 0] = 1
    body = np.frombuffer(level, dtype=np.uint8, count=pairs * 2 * HASH_SIZE)
    rows[:, 1:] = body.reshape(pairs, 2 * HASH_SIZE)
    return _hash_rows(rows.tobytes(), 2 * HASH_SIZE + 1)


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An RFC 6962 tree over ``leaves`` (raw leaf data; each is leaf-hashed here).

    ``levels[h]`` holds the hashes of the complete subtrees of height ``h`` (``2**h``
    leaves each), left to right, as one ``bytes`` of ``32 * (n >> h)`` bytes.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        levels = [_leaf_hashes(leaves)]
        while len(levels[-1]) >= 2 * HASH_SIZE:
            levels.append(_next_level(levels[-1]))
        self.levels: list[bytes] = levels

    @classmethod
    def from_leaf_hashes(cls, hashes: bytes) -> MerkleTree:
        """A tree from already leaf-hashed values, ``32 * n`` bytes concatenated."""
        if len(hashes) % HASH_SIZE:
            raise InvalidInput(
                f"leaf hashes must be a multiple of 32 bytes, got {len(hashes)}", field="hashes"
            )
        tree = cls.__new__(cls)
        tree.size = len(hashes) // HASH_SIZE
        levels = [bytes(hashes)]
        while len(levels[-1]) >= 2 * HASH_SIZE:
            levels.append(_next_level(levels[-1]))
        tree.levels = levels
        return tree

    @classmethod
    def from_packed_leaves(cls, packed: bytes, width: int = HASH_SIZE) -> MerkleTree:
        """A tree over ``len(packed) // width`` leaves of ``width`` bytes each (e.g. entry
        hashes of an audit chain, 32 bytes each), without building a list of leaves."""
        if width <= 0 or len(packed) % width:
            raise InvalidInput(
                f"packed leaves ({len(packed)} bytes) are not a multiple of width {width}",
                field="packed",
            )
        return cls.from_leaf_hashes(_packed_leaf_hashes(packed, width) if packed else b"")

    def leaf_hash_at(self, index: int) -> bytes:
        """The leaf hash at ``index`` (0-based)."""
        self._check_index(index, self.size)
        return self.levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def _node(self, height: int, index: int) -> bytes:
        level = self.levels[height]
        return level[index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion produces (``start`` aligned)."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            height = n.bit_length() - 1
            return self._node(height, start >> height)
        k = _largest_power_of_two_below(n)
        return node_hash(self._range_hash(start, start + k), self._range_hash(start + k, end))

    def _check_size(self, size: int, name: str = "size") -> None:
        if not 0 <= size <= self.size:
            raise InvalidInput(
                f"tree size {size} is outside 0..{self.size}", field=name, value=size
            )

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise InvalidInput(
                f"leaf index {index} is outside 0..{size - 1}", field="index", value=index
            )

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default); empty -> SHA-256("")."""
        size = self.size if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def audit_path(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1, leaf side first."""
        size = self.size if size is None else size
        self._check_size(size)
        self._check_index(index, size)
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if index < start + k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2; empty when sizes are equal or 0."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size, "new_size")
        if not 0 <= old_size <= new_size:
            raise InvalidInput(
                f"old tree size {old_size} is outside 0..{new_size}",
                field="old_size",
                value=old_size,
            )
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        # SUBPROOF(m, D[start:end], complete) unrolled: one walk down the right spine.
        m, start, end, complete = old_size, 0, new_size, True
        while True:
            n = end - start
            if m == n:
                if not complete:
                    proof.append(self._range_hash(start, end))
                break
            k = _largest_power_of_two_below(n)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                m -= k
                start += k
                complete = False
        proof.reverse()
        return proof


class MerkleFrontier:
    """An append-only RFC 6962 tree that keeps only its right frontier.

    ``nodes`` holds the complete subtrees the tree decomposes into, left to right, as
    ``(height, hash)`` with strictly decreasing heights (at most ``log2(n) + 1`` of them), so a
    writer appends in O(1) amortised time and signs a root in O(log n) without rereading old
    leaves. Persist ``(size, nodes)`` and rebuild with ``MerkleFrontier(size, nodes)``.
    """

    def __init__(self, size: int = 0, nodes: Sequence[tuple[int, bytes]] = ()) -> None:
        heights = [h for h, _ in nodes]
        if sum(1 << h for h in heights) != size or heights != sorted(heights, reverse=True):
            raise InvalidInput(
                f"frontier heights {heights} do not decompose size {size}", field="nodes"
            )
        self.size = size
        self.nodes: list[tuple[int, bytes]] = list(nodes)

    def append_leaf_hash(self, leaf: bytes) -> None:
        """Append one leaf given as its leaf hash (``leaf_hash(data)``)."""
        height, value = 0, leaf
        nodes = self.nodes
        while nodes and nodes[-1][0] == height:
            value = node_hash(nodes.pop()[1], value)
            height += 1
        nodes.append((height, value))
        self.size += 1

    def append(self, data: bytes) -> None:
        """Append one leaf given as raw data."""
        self.append_leaf_hash(leaf_hash(data))

    def root(self) -> bytes:
        """MTH of every leaf appended so far."""
        if not self.nodes:
            return EMPTY_ROOT
        value = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            value = node_hash(left, value)
        return value


def root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of ``leaves`` (raw leaf data, ``n >= 0``)."""
    return MerkleTree(leaves).root()


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` sits at ``index`` of the tree ``root_hash``.

    ``leaf`` is the *leaf hash* (``leaf_hash(data)``). RFC 9162 §2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Whether ``proof`` shows the tree ``new_root`` extends ``old_root``. RFC 9162 §2.1.4.2.

    Equal sizes need an empty proof and equal roots; an old size of 0 is consistent with
    anything (with an empty proof).
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root

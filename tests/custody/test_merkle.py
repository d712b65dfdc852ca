"""RFC 6962 Merkle tree: Certificate Transparency reference vectors and properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.custody.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from labelproof.errors import InvalidInput

# The eight leaves of the Certificate Transparency reference tests (merkle_tree_test).
CT_LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH written straight from RFC 6962 §2.1, recursion and all."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_ct_roots(size: int) -> None:
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    assert MerkleTree(CT_LEAVES).root(size).hex() == CT_ROOTS[size]


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    empty = MerkleTree([])
    assert empty.size == 0
    assert empty.root() == EMPTY_ROOT
    assert empty.consistency_proof(0) == []
    with pytest.raises(InvalidInput):
        empty.audit_path(0)


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion_paths(index: int, size: int, path: list[str]) -> None:
    tree = MerkleTree(CT_LEAVES)
    got = tree.audit_path(index, size)
    assert [p.hex() for p in got] == path
    leaf = leaf_hash(CT_LEAVES[index])
    assert verify_inclusion(leaf, index, size, got, bytes.fromhex(CT_ROOTS[size]))
    assert not verify_inclusion(leaf, index, size, got, bytes.fromhex(CT_ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_ct_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    tree = MerkleTree(CT_LEAVES)
    got = tree.consistency_proof(old, new)
    assert [p.hex() for p in got] == proof
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, got)
    if old != new:
        assert not verify_consistency(old, new, new_root, new_root, got)


def test_leaf_and_node_hash_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = b"a" * 32, b"b" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    # Second-preimage resistance: a leaf never hashes like the node made of its halves.
    assert leaf_hash(a + b) != node_hash(a, b)


def test_packed_and_list_leaves_agree() -> None:
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(37)]
    packed = MerkleTree.from_packed_leaves(b"".join(leaves))
    assert packed.root() == root(leaves) == reference_mth(leaves)
    assert packed.audit_path(17) == MerkleTree(leaves).audit_path(17)


def test_out_of_range_arguments_are_named() -> None:
    tree = MerkleTree(CT_LEAVES)
    with pytest.raises(InvalidInput) as exc:
        tree.audit_path(8, 8)
    assert exc.value.field == "index"
    with pytest.raises(InvalidInput) as exc:
        tree.root(9)
    assert exc.value.field == "size"
    with pytest.raises(InvalidInput) as exc:
        tree.consistency_proof(5, 4)
    assert exc.value.field == "old_size"
    with pytest.raises(InvalidInput) as exc:
        MerkleTree.from_leaf_hashes(b"x" * 33)
    assert exc.value.field == "hashes"


def test_verifiers_reject_malformed_arguments() -> None:
    tree = MerkleTree(CT_LEAVES)
    r8 = tree.root()
    path = tree.audit_path(3)
    leaf = leaf_hash(CT_LEAVES[3])
    assert verify_inclusion(leaf, 3, 8, path, r8)
    assert not verify_inclusion(leaf, 8, 8, path, r8)
    assert not verify_inclusion(leaf, 3, 8, path[:-1], r8)
    assert not verify_inclusion(leaf, 3, 8, [*path, path[0]], r8)
    assert not verify_inclusion(leaf, 2, 8, path, r8)
    proof = tree.consistency_proof(3, 8)
    r3 = tree.root(3)
    assert verify_consistency(3, 8, r3, r8, proof)
    assert not verify_consistency(3, 8, r3, r8, proof[:-1])
    assert not verify_consistency(3, 8, r3, r8, [*proof, proof[0]])
    assert not verify_consistency(3, 8, r3, r8, [])
    assert not verify_consistency(8, 3, r8, r3, proof)
    assert verify_consistency(0, 8, EMPTY_ROOT, r8, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, r8, proof)


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_inclusion_property(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    r = tree.root(size)
    assert r == reference_mth(leaves[:size])
    path = tree.audit_path(index, size)
    assert verify_inclusion(leaf_hash(leaves[index]), index, size, path, r)
    if path:
        bad = list(path)
        bad[data.draw(st.integers(0, len(bad) - 1))] = b"\xff" * 32
        assert not verify_inclusion(leaf_hash(leaves[index]), index, size, bad, r)
    other = data.draw(st.integers(0, size - 1))
    if other != index and leaves[other] != leaves[index]:
        assert not verify_inclusion(leaf_hash(leaves[other]), index, size, path, r)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_consistency_property(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    if old < new:
        forked = [*leaves[: old - 1], leaves[old - 1] + b"!"]
        assert not verify_consistency(old, new, root(forked), tree.root(new), proof)


@settings(max_examples=40, deadline=None)
@given(leaf_lists)
def test_frontier_matches_the_full_tree(leaves: list[bytes]) -> None:
    frontier = MerkleFrontier()
    tree = MerkleTree(leaves)
    for i, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == tree.root(i)
    again = MerkleFrontier(frontier.size, frontier.nodes)
    again.append(b"next")
    assert again.root() == root([*leaves, b"next"])


def test_frontier_refuses_a_bad_decomposition() -> None:
    assert MerkleFrontier().root() == EMPTY_ROOT
    with pytest.raises(InvalidInput) as exc:
        MerkleFrontier(3, [(0, b"a" * 32), (1, b"b" * 32)])
    assert exc.value.field == "nodes"

"""Custody: the audit hash chain with signed checkpoints, Merkle proofs, envelope encryption.

Infrastructure layer: no web, no database. The store writes audit rows; this package says
how a row is hashed, how the log is checkpointed and signed, and how a copy is verified.
"""

"""Custody wired into the server: the audit chain in the database, keys, encrypted blobs,
clearances and destruction (docs/security.md). The cryptography lives in
:mod:`labelproof.custody`; these modules store and use it."""

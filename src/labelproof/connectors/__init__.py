"""Connectors to other annotation tools running as servers.

One module per tool; each talks to the tool over its own API and converts through the
matching format codec (``labelproof.formats``):

* ``labelproof.connectors.labelstudio`` — a running Label Studio (pull, push, compare,
  agreement). Needs ``httpx``.

Importing this package imports no connector; see ``docs/connectors.md``.
"""

from __future__ import annotations

CONNECTORS = ("labelstudio",)
"""Names of the connector modules in this package."""

__all__ = ["CONNECTORS"]

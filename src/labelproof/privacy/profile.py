"""The PS3.15 basic confidentiality profile as a lookup: tag -> rule, and what each action does.

The table itself is data in :mod:`labelproof.privacy._table_e1_1`. A compound action lets the
de-identifier keep an IOD valid: "X unless Z/D is needed for conformance", and so on. We do
not know which IOD module an attribute sits in, so a compound resolves to its *least
destructive* member that still removes the identifying value (the usual reading of the
standard by de-identifiers that are not IOD-aware):

==========  =========  ===========================================================
table       we apply   meaning
==========  =========  ===========================================================
``X``       X          remove
``Z``       Z          replace with a zero-length value (an empty sequence for SQ)
``D``       D          replace with a dummy of the VR (a sequence keeps its items,
                       each de-identified by the same profile)
``U``       U          replace every UID by its keyed remapping (``2.25.<int>``)
``X/Z``     Z
``X/D``     D
``Z/D``     D
``X/Z/D``   D
``X/Z/U*``  U          keep the sequence, de-identify its items (their UIDs remapped)
==========  =========  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from labelproof.privacy._table_e1_1 import TABLE_E1_1

__all__ = ["EFFECTIVE_ACTION", "ProfileRule", "private_rule", "profile_rules", "rule_for"]

EFFECTIVE_ACTION = {
    "X": "X",
    "Z": "Z",
    "D": "D",
    "U": "U",
    "K": "K",
    "C": "D",
    "X/Z": "Z",
    "X/D": "D",
    "Z/D": "D",
    "X/Z/D": "D",
    "X/Z/U*": "U",
}


@dataclass(frozen=True)
class ProfileRule:
    """One row of Table E.1-1. ``mask``/``value``: the tag matches when ``tag & mask ==
    value`` (``mask`` is all ones except for repeating-group digits)."""

    tag: str
    action: str
    name: str
    modify_dates: bool
    mask: int
    value: int

    @property
    def effective(self) -> str:
        return EFFECTIVE_ACTION[self.action]


def _parse(line: str) -> ProfileRule:
    tag, action, options, name = line.split("|", 3)
    mask = int("".join("0" if c == "x" else "F" for c in tag), 16)
    value = int(tag.replace("x", "0"), 16)
    return ProfileRule(tag, action, name, "L" in options, mask, value)


@cache
def profile_rules() -> tuple[dict[int, ProfileRule], tuple[ProfileRule, ...]]:
    """The table as ``(exact tags -> rule, rules for repeating groups)``."""
    exact: dict[int, ProfileRule] = {}
    repeating: list[ProfileRule] = []
    for line in TABLE_E1_1.splitlines():
        if not line.strip() or line.startswith("PRIVATE|"):
            continue
        rule = _parse(line)
        if rule.mask == 0xFFFFFFFF:
            exact[rule.value] = rule
        else:
            repeating.append(rule)
    return exact, tuple(repeating)


@cache
def private_rule() -> ProfileRule:
    """The table's row for private attributes (odd groups): remove."""
    line = next(x for x in TABLE_E1_1.splitlines() if x.startswith("PRIVATE|"))
    _, action, options, name = line.split("|", 3)
    return ProfileRule("PRIVATE", action, name, "L" in options, 0x00010000, 0x00010000)


def rule_for(tag: int) -> ProfileRule | None:
    """The profile's rule for ``tag`` (``0xGGGGEEEE``), or None when the table is silent."""
    exact, repeating = profile_rules()
    rule = exact.get(tag)
    if rule is not None:
        return rule
    for r in repeating:
        if tag & r.mask == r.value:
            return r
    return None

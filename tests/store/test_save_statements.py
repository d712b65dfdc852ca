"""The SQL of one save, pinned on both databases (docs/decisions/0001-store-and-writes.md).

A save over HTTP is authenticated, validated in a read transaction and appended in a short
write transaction; every statement of the write transaction runs under the database's
write lock. These tests list the statements one save sends (``before_cursor_execute``,
plus the commits and rollbacks, and PostgreSQL's driver-sent BEGIN) and compare the list
with the one expected, so a change that adds a statement fails here, with the list printed.
A second test moves the audit chain head behind the runtime's back (as another process
would) and checks the next save reads the head again and the chain stays whole.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, event, select

from labelproof.config import Settings
from labelproof.services.context import Runtime, open_runtime
from labelproof.services.custody.evidence import verify_stored_log
from labelproof.store.models import AnnotationRevision, AuditEvent
from tests.world import World

BOX = {"id": "b1", "type": "box", "label": "car", "geometry": {"x": 1, "y": 2, "w": 30, "h": 40}}

#: One warm save (not the runtime's first write), statement by statement.
EXPECTED = {
    "sqlite": [
        # who is calling: credential and user in one read
        "BEGIN DEFERRED",
        "SELECT credentials",
        "ROLLBACK",
        # validation: task, project, role, user (clearance), asset, latest schema in one
        "BEGIN DEFERRED",
        "SELECT tasks",
        "ROLLBACK",
        # the write: authorization again, then key / schema / base / next id in one
        "BEGIN IMMEDIATE",
        "SELECT tasks",
        "SELECT annotation_revisions",
        "INSERT annotation_revisions",  # sealed before the INSERT: no UPDATE follows
        "UPDATE audit_chain_head",  # compare-and-set on the cached head: no read
        "INSERT audit_events",
        "COMMIT",
    ],
    "postgresql": [
        "BEGIN",
        "SELECT credentials",
        "ROLLBACK",
        "BEGIN",
        "SELECT tasks",
        "ROLLBACK",
        "BEGIN",
        "SELECT tasks",
        "SELECT annotation_revisions",  # with nextval() of the id sequence
        "INSERT annotation_revisions",
        "SELECT pg_advisory_xact_lock",
        "UPDATE audit_chain_head",
        "INSERT audit_events",
        "COMMIT",
    ],
}


def _label(statement: str) -> str:
    """``SELECT <first table>``, ``INSERT <table>``, ``UPDATE <table>``, or the statement."""
    text = " ".join(statement.split())
    if m := re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", text):
        return f"{m.group(1).split()[0]} {m.group(2)}"
    if text.startswith("SELECT"):
        m = re.search(r"\bFROM (\w+)", text)
        return f"SELECT {m.group(1)}" if m else "SELECT " + re.split(r"[(\s]", text[7:])[0]
    return text


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The labels of everything ``engine`` sends while the block runs."""
    seen: list[str] = []
    postgres = engine.dialect.name == "postgresql"

    def on_execute(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(_label(statement))

    def on_begin(_c: Any) -> None:
        if postgres:  # SQLite's BEGIN is a statement of its own (store/db.py)
            seen.append("BEGIN")

    hooks: list[tuple[str, Callable[..., Any]]] = [
        ("before_cursor_execute", on_execute),
        ("begin", on_begin),
        ("commit", lambda _c: seen.append("COMMIT")),
        ("rollback", lambda _c: seen.append("ROLLBACK")),
    ]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)


def _save(world: World, base: int, rt: Runtime | None = None) -> Any:
    client = world.client("annotator")
    if rt is not None:
        from fastapi.testclient import TestClient

        from labelproof.api.app import create_app

        client = TestClient(create_app(rt))
        client.headers["Authorization"] = f"Bearer {world.tokens['annotator']}"
    r = client.put(
        f"/api/tasks/{world.task_id}/annotations",
        json={"base_revision": base, "annotations": [BOX]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_one_save_sends_the_pinned_statements(world: World, backend: str) -> None:
    _save(world, 0)  # the runtime's first write reads the audit chain head once
    with statements(world.rt.engine) as seen:
        assert _save(world, 1)["number"] == 2
    expected = EXPECTED[backend]
    listing = "\n".join(f"  {i + 1:>2}. {s}" for i, s in enumerate(seen))
    assert seen == expected, (
        f"one save on {backend} sent {len(seen)} statements, {len(expected)} expected:\n"
        f"{listing}\nIf the change is meant, update EXPECTED and the list in "
        "docs/decisions/0001-store-and-writes.md."
    )
    with world.rt.read() as db:
        rev = db.scalar(select(AnnotationRevision).where(AnnotationRevision.number == 2))
        assert rev is not None and rev.annotations[0]["geometry"]["w"] == 30


def test_a_head_moved_by_another_process_is_read_again(
    world: World, settings: Settings, backend: str
) -> None:
    _save(world, 0)  # this runtime caches the chain head it wrote
    other = open_runtime(settings, migrate=False)  # "another process" on the same database
    try:
        assert _save(world, 1, other)["number"] == 2
    finally:
        other.engine.dispose()
    with statements(world.rt.engine) as seen:
        assert _save(world, 2)["number"] == 3
    # the compare-and-set found the head moved: the head is read and written again
    at = seen.index("UPDATE audit_chain_head")
    assert seen[at + 1 : at + 3] == ["SELECT audit_chain_head", "UPDATE audit_chain_head"], seen
    with world.rt.read() as db:
        events = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        report = verify_stored_log(db, world.rt.custody.signing_key().public_key())
    assert report.ok, report
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    for a, b in pairwise(events):
        assert b.prev_hash == a.entry_hash
    saved = [e.details["revision"] for e in events if e.action == "annotation.saved"]
    assert saved == [1, 2, 3]
    # and the next save is back to the compare-and-set alone
    with statements(world.rt.engine) as seen:
        _save(world, 3)
    assert "SELECT audit_chain_head" not in seen, seen


def test_a_cached_head_the_row_no_longer_has_is_dropped(world: World) -> None:
    """A head cached ahead of the row (the database restored under a running server) is
    replaced by the row's after one read, not kept because it is longer."""
    from dataclasses import replace

    from labelproof.services.custody.chain import HEAD_CACHE, HeadCache

    _save(world, 0)
    cache: HeadCache = world.rt.sessions.kw["info"][HEAD_CACHE]
    cached = cache.get()
    assert cached is not None
    ahead = cached.frontier()
    for _ in range(3):  # events the row never got: longer than the next save makes it
        ahead.append_leaf_hash(bytes(32))
    cache.offer(
        replace(
            cached,
            size=ahead.size,
            nodes=tuple(ahead.nodes),
            last_id=cached.last_id + 3,
            last_hash=bytes(32),
        )
    )
    for base, reads in ((1, 1), (2, 0)):
        with statements(world.rt.engine) as seen:
            _save(world, base)
        assert seen.count("SELECT audit_chain_head") == reads, seen
    with world.rt.read() as db:
        assert verify_stored_log(db, world.rt.custody.signing_key().public_key()).ok

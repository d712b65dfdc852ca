"""Every error response is JSON with a machine-readable code and a human message."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from labelproof.api import errors as api_errors
from labelproof.services import projects
from tests.world import World


def test_unknown_route_and_method_are_json(world: World) -> None:
    c = world.client("annotator")
    r = c.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = c.delete("/api/projects")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_unexpected_error_is_json_500_without_details(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(projects, "list_projects", boom)
    c = TestClient(world.app_client.app, raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {world.tokens['annotator']}"
    r = c.get("/api/projects")
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    assert "secret" not in r.text


def test_status_mapping_is_total() -> None:
    from labelproof import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        exc = cls("x", retry_after=1, scope="t") if cls is errors.RateLimited else cls("x")
        status = api_errors.status_for(exc)
        assert 400 <= status < 600, name
    assert api_errors.status_for(errors.StaleRevision("x")) == 409
    assert api_errors.status_for(errors.AccountLocked("x")) == 423
    assert api_errors.status_for(errors.FileTooLarge("x")) == 413
    assert api_errors.status_for(errors.RateLimited("x", retry_after=3, scope="a")) == 429

"""Model pre-labels as suggestions: imported through the API with ``prelabels=true``,
drawn dashed with their confidence, then accepted, edited, deleted and accepted in bulk
in the browser; the saved revision and the edit rate are read back through the API."""

from __future__ import annotations

from typing import Any

import httpx

from labelproof.metrics import count_outcomes, suggestion_outcomes
from tests.browser.conftest import Server, shot
from tests.browser.prelabels import current, project_with_import, revisions
from tests.browser.workspace import Workspace, sign_in

PRELABELS = [
    {"category": "object", "bbox": [20, 20, 80, 60], "area": 4800, "score": 0.95},  # S1
    {"category": "person", "bbox": [150, 20, 80, 60], "area": 4800, "score": 0.85},  # S2
    {
        "category": "object",
        "segmentation": [[40, 150, 120, 140, 130, 220, 50, 230]],
        "bbox": [40, 140, 90, 90],
        "area": 6000,
        "score": 0.6,
    },  # S3
    {"category": "object", "bbox": [200, 150, 60, 50], "area": 3000, "score": 0.4},  # S4
    {"category": "person", "bbox": [300, 150, 60, 80], "area": 4800, "score": 0.3},  # S5
]


def edge_coverage(page: Any, ws: Workspace, y: float, x0: float, x1: float) -> float:
    """Fraction of the shapes layer's pixels just above the image row ``y`` (an object's
    top edge) between ``x0`` and ``x1`` that the outline covers: ~1 solid, ~0.6 dashed."""
    ax, ay = ws.xy(x0, y)
    bx, _ = ws.xy(x1, y)
    out: float = page.evaluate(
        """([ax, ay, bx]) => {
            const c = document.querySelector('canvas[data-layer=shapes]');
            const r = c.getBoundingClientRect();
            const dpr = c.width / r.width;
            const row = Math.floor((ay - r.top) * dpr - 0.6);
            const x0 = Math.round((ax - r.left) * dpr), x1 = Math.round((bx - r.left) * dpr);
            const d = c.getContext('2d').getImageData(x0, row, x1 - x0, 1).data;
            let on = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 60) on++;
            return on / (x1 - x0);
        }""",
        [ax, ay, bx],
    )
    return out


def test_accept_edit_delete_and_accept_above(
    page: Any, server: Server, admin_api: httpx.Client
) -> None:
    pid, task = project_with_import(admin_api, PRELABELS, prelabels=True)
    imported = current(admin_api, task)
    assert [a["source"] for a in imported] == ["model"] * 5
    ids = [a["id"] for a in imported]  # S1..S5 in import order
    before = {a["id"]: a for a in imported}
    assert [before[i]["confidence"] for i in ids] == [0.95, 0.85, 0.6, 0.4, 0.3]

    sign_in(page, server)
    ws = Workspace(page).open(task, project_id=pid)
    rows = page.locator("[data-testid=object-row][data-source=model]")
    assert rows.count() == 5
    assert "95%" in page.inner_text("[data-testid=object-list]")
    assert page.locator("[data-testid=suggestions]").is_visible()
    # Suggestions are drawn dashed: about 6 px on, 4 px off along the top edge of S1.
    dashed = edge_coverage(page, ws, 20, 25, 95)
    assert 0.4 < dashed < 0.8, dashed
    shot(page, "suggestions")

    # S3 (polygon): accept as it is.
    ws.click(85, 185)
    assert page.evaluate("() => window.__labelproof.doc.selected") == ids[2]
    assert "suggestion 60%" in page.inner_text("[data-testid=suggestion-chip]")
    page.click("[data-testid=accept]")
    # S2 (box): edit by dragging its bottom-right corner from (230, 80) to (250, 100).
    ws.click(190, 50)
    assert page.evaluate("() => window.__labelproof.doc.selected") == ids[1]
    ws.drag((230, 80), (250, 100))
    # S5: delete.
    ws.click(330, 190)
    assert page.evaluate("() => window.__labelproof.doc.selected") == ids[4]
    ws.key("Delete")
    # Accept everything at or above 0.9: only S1 is left there (S2 is already the annotator's).
    page.fill("[data-testid=accept-threshold]", "0.9")
    assert page.inner_text("[data-testid=accept-above]").strip() == "Accept 1"
    page.click("[data-testid=accept-above]")
    ws.key("Escape")
    page.wait_for_timeout(100)
    solid = edge_coverage(page, ws, 20, 25, 95)
    assert solid > 0.95, solid  # S1 is no longer a suggestion: a solid outline
    shot(page, "suggestions-reviewed")

    rev = ws.save()
    saved = {a["id"]: a for a in current(admin_api, task)}
    assert set(saved) == {ids[0], ids[1], ids[2], ids[3]}
    s1, s2, s3, s4 = (saved[i] for i in ids[:4])
    # accepted: same geometry and label, now the annotator's
    for s, i in ((s1, 0), (s3, 2)):
        assert s["source"] == "human" and s["confidence"] is None
        assert s["geometry"] == before[ids[i]]["geometry"]
        assert s["label"] == before[ids[i]]["label"]
    assert s3["type"] == "polygon"
    assert s3["geometry"]["points"] == [[40, 150], [120, 140], [130, 220], [50, 230]]
    # edited: same id, the annotator's, the new corner
    assert s2["source"] == "human" and s2["confidence"] is None
    assert s2["geometry"] == {"x": 150, "y": 20, "w": 100, "h": 80}
    # pending: untouched
    assert s4 == before[ids[3]]

    history = revisions(admin_api, task)
    assert [r["number"] for r in history][-1] == rev
    report = suggestion_outcomes(history)
    assert {k: o.outcome for k, o in report.items()} == {
        ids[0]: "accepted",
        ids[1]: "edited",
        ids[2]: "accepted",
        ids[3]: "pending",
        ids[4]: "deleted",
    }
    counts = count_outcomes(report.values())
    assert (counts.accepted, counts.edited, counts.deleted, counts.pending) == (2, 1, 1, 1)
    assert counts.edit_rate == 1 / 4
    assert counts.deletion_rate == 1 / 4
    # the server computes the same from the same history
    r = admin_api.get(f"/api/projects/{pid}/suggestions/figures", params={"task_id": task})
    r.raise_for_status()
    assert r.json()["overall"] == counts.as_dict()

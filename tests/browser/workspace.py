"""Driving the workspace page from tests: sign in, open a task, draw in image pixels."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server


def sign_in(page: Any, server: Server, role: str = "annotator") -> None:
    page.goto("/")
    page.fill("input[name=email]", server.emails[role])
    page.fill("input[name=password]", server.passwords[role])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=project]")


class Workspace:
    """The open workspace of one task; coordinates are image pixels."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, task_id: int, project_id: int = 1) -> Workspace:
        self.page.goto(f"/#/projects/{project_id}/tasks/{task_id}")
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        self.page.wait_for_function("() => window.__labelproof && window.__labelproof.engine")
        self.page.wait_for_timeout(100)  # let the first frame draw

    def xy(self, x: float, y: float) -> tuple[float, float]:
        cx, cy = self.page.evaluate(
            "([x, y]) => window.__labelproof.engine.imageToClient(x, y)", [x, y]
        )
        return float(cx), float(cy)

    def click(self, x: float, y: float, *, shift: bool = False) -> None:
        cx, cy = self.xy(x, y)
        if shift:
            self.page.keyboard.down("Shift")
        self.page.mouse.click(cx, cy)
        if shift:
            self.page.keyboard.up("Shift")
        self.page.wait_for_timeout(30)

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 6) -> None:
        ax, ay = self.xy(*a)
        bx, by = self.xy(*b)
        self.page.mouse.move(ax, ay)
        self.page.mouse.down()
        self.page.mouse.move(bx, by, steps=steps)
        self.page.mouse.up()
        self.page.wait_for_timeout(30)

    def tool(self, name: str) -> None:
        self.page.click(f"[data-tool={name}]")

    def cls(self, name: str) -> None:
        self.page.click(f"[data-testid=class-{name}]")

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.page.wait_for_timeout(30)

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.page.evaluate(
            "() => JSON.parse(JSON.stringify(window.__labelproof.doc.items))"
        )
        return out

    def save_state(self) -> tuple[str, int]:
        el = self.page.locator("[data-testid=save-status]")
        return str(el.get_attribute("data-state")), int(el.get_attribute("data-revision") or 0)

    def save(self, revision: int | None = None) -> int:
        """Save now (Ctrl+S) and wait until saved; returns the revision number."""
        self.page.keyboard.press("Control+s")
        cond = "el => el.dataset.state === 'saved'"
        if revision is not None:
            cond = f"el => el.dataset.state === 'saved' && el.dataset.revision === '{revision}'"
        self.page.wait_for_function(
            f"() => {{ const el = document.querySelector('[data-testid=save-status]'); "
            f"return el && ({cond})(el); }}",
            timeout=10_000,
        )
        return self.save_state()[1]

"""Browser tests of the web app: a real ``labelproof serve`` on a free loopback port over a
demo data directory, driven by Python Playwright with Debian's chromium.

The app is built first (``npm run build`` in ``web/``) when ``src/labelproof/web/dist`` has
no ``index.html``. Without chromium or the built app (and no npm to build it) the tests are
skipped with the reason. Screenshots go to ``$LABELPROOF_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = ROOT / "src" / "labelproof" / "web" / "dist"
CHROMIUM = os.environ.get("LABELPROOF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_USER_LINE = re.compile(r"^\s*(\w+)\s+(\S+@\S+)\s+(\S+)\s*$")


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    passwords: dict[str, str]  # role -> password
    emails: dict[str, str]  # role -> email


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built app, building it once if needed."""
    if not (DIST / "index.html").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("the web app is not built and npm is not installed")
        if not (WEB / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return DIST


@pytest.fixture(scope="session")
def server(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo installation served on a free port for the whole session (per xdist worker)."""
    data = tmp_path_factory.mktemp("lp-browser-data")
    exe = [sys.executable, "-m", "labelproof"]
    out = subprocess.run(
        [*exe, "demo", "--data-dir", str(data)], capture_output=True, text=True, check=True
    ).stdout
    passwords: dict[str, str] = {}
    emails: dict[str, str] = {}
    for line in out.splitlines():
        m = _USER_LINE.match(line)
        if m:
            emails[m.group(1)] = m.group(2)
            passwords[m.group(1)] = m.group(3)
    assert "annotator" in passwords, out
    port = _free_port()
    log = (data / "server.log").open("w")
    # One server serves every browser test of this worker, and they all sign in as the
    # same demo accounts: lift the sign-in rate limits (tests/api proves those limits).
    env = {
        **os.environ,
        "LABELPROOF_SIGNIN_IP_PER_MINUTE": "100000",
        "LABELPROOF_SIGNIN_IP_BURST": "100000",
        "LABELPROOF_SIGNIN_ACCOUNT_PER_MINUTE": "100000",
        "LABELPROOF_SIGNIN_ACCOUNT_BURST": "100000",
    }
    proc = subprocess.Popen(
        [*exe, "serve", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data / "server.log").read_text())
            time.sleep(0.2)
        yield Server(url=url, data_dir=data, passwords=passwords, emails=emails)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def admin_api(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client signed in as the demo admin (for set-up and reading results)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        r = client.post(
            "/api/auth/login",
            json={"email": server.emails["admin"], "password": server.passwords["admin"]},
        )
        r.raise_for_status()
        client.headers["X-CSRF-Token"] = client.cookies["labelproof_csrf"]
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (no cookies, empty localStorage) with one page."""
    context = browser.new_context(viewport={"width": 1400, "height": 850}, base_url=server.url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def new_task(admin_api: httpx.Client) -> Any:
    """Make a fresh task on one of the demo images: ``new_task(asset_id) -> task id``."""

    def make(asset_id: int = 1) -> int:
        r = admin_api.post("/api/projects/1/tasks", json={"asset_ids": [asset_id]})
        r.raise_for_status()
        return int(r.json()[0]["id"])

    return make


def shot(page: Any, name: str) -> None:
    """Save a screenshot when LABELPROOF_SCREENSHOTS names a folder."""
    folder = os.environ.get("LABELPROOF_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))

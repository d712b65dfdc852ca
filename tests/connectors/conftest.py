"""Fixtures of the connector tests: a real Label Studio from the peer venv, tiny PNGs on a
loopback HTTP server.

The live server comes from ``.peers/labelstudio`` (``scripts/peers-labelstudio``); without
it the live tests are skipped, in CI too (the peer venv is about 1 GB, too heavy to build on
every run). Everything listens on 127.0.0.1 only; every process started here is stopped by
its PID.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(os.environ.get("LABELPROOF_LABELSTUDIO_PEER", ROOT / ".peers" / "labelstudio"))
START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class LiveLabelStudio:
    url: str
    token: str
    """A legacy API token of the administrator."""
    email: str
    password: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLabelStudio]:
    exe = PEER / "bin" / "label-studio"
    if not exe.is_file():
        message = f"Label Studio peer venv absent ({exe}); create it with scripts/peers-labelstudio"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (scripts/test does so before running the suite)")
        pytest.skip(message)
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    # token_urlsafe may start with '-' (1 in 64), which argparse would read as an option
    email, password = "admin@labelproof.test", "p" + secrets.token_urlsafe(12)
    token = secrets.token_hex(20)
    env = {
        **os.environ,
        "LABEL_STUDIO_USER_TOKEN": token,  # kept off the command line
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
    }
    log = (data / "server.log").open("wb")
    cmd = [
        str(exe),
        "start",
        "--no-browser",
        "--internal-host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data / "ls"),
        "--username",
        email,
        f"--password={password}",  # one token: a password starting with '-' is not an option
        "--enable-legacy-api-token",
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=data)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                tail = (data / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"Label Studio exited with {proc.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(
                    f"{url}/api/projects/", headers={"Authorization": f"Token {token}"}, timeout=5
                )
                if r.status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer on {url} within {START_TIMEOUT_S:g} s")
            time.sleep(1.0)
        yield LiveLabelStudio(url, token, email, password, data)
    finally:
        _stop(proc)
        log.close()


def png_bytes(width: int, height: int, shade: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 255 - shade, 128)).save(buf, format="PNG")
    return buf.getvalue()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def image_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, folder) of a loopback HTTP server serving the folder's files."""
    root = tmp_path_factory.mktemp("images")
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

"""The workspace's DICOM viewer (web/src/dicom/): what opening a DICOM asset, changing the
window and stepping frames cost in headless chromium, and what the viewer adds to the app's
download. Figures for docs/decisions/0008-dicom-viewer.md.

It seeds a demo data directory, serves it on a free loopback port, uploads pydicom's test
files and two generated CTs, and for each asset (median over ``--runs`` page loads):
- open: navigation start -> the DICOM layer's first frame decoded and drawn (ms); includes
  downloading the file and, on the first asset of a page load, loading cornerstone;
- window change: rendering the frame through a new window into the layer's canvas (ms,
  median over 20 preset changes; "no table": the same with the per-pixel ramp instead of
  the lookup table, interleaved in the same page) and the engine's image-layer draw after it;
- frames (multi-frame assets): "jump", to the last frame (not decoded yet) until drawn;
  "step", one frame back every 50 ms until drawn (median of 10; the next frame in the
  direction of travel is decoded ahead).
Also: the bundle sizes (main chunk, the lazily loaded cornerstone chunk, its worker and WASM
codecs) and whether this chromium offers WebGL (cornerstone's StackViewport renders with it).

    .venv/bin/python benchmarks/dicom_viewer.py [--runs 3]

Headless chromium here renders canvas 2D in software (--disable-gpu); absolute times are
pessimistic, the machine is shared, so read ratios rather than single figures.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pydicom
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "src" / "labelproof" / "web" / "dist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_USER = re.compile(r"^\s*(\w+)\s+(\S+@\S+)\s+(\S+)\s*$")


def _bundled(name: str) -> bytes:
    path = get_testdata_file(name)
    assert isinstance(path, str), name
    return Path(path).read_bytes()


def _save(ds: pydicom.Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def ct(side: int, frames: int = 1) -> bytes:
    """A generated CT (int16, rescale -1024) of ``side`` x ``side`` px and ``frames``."""
    ds = pydicom.dcmread(io.BytesIO(_bundled("CT_small.dcm")))
    rng = np.random.default_rng(side + frames)
    yy, xx = np.mgrid[0:side, 0:side]
    body = ((xx - side / 2) ** 2 + (yy - side / 2) ** 2 < (side * 0.45) ** 2) * 1064
    arr = np.stack(
        [body + rng.integers(-40, 40, (side, side)) + 30 * k for k in range(frames)]
    ).astype(np.int16)
    ds.Rows = ds.Columns = side
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = arr.tobytes()
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    return _save(ds)


def files() -> dict[str, bytes]:
    return {
        "CT_small.dcm (128^2, explicit LE)": _bundled("CT_small.dcm"),
        "693_J2KI.dcm (512^2, JPEG 2000)": _bundled("693_J2KI.dcm"),
        "generated CT 2048^2": ct(2048),
        "generated CT 256^2 x 40 frames": ct(256, 40),
        "examples_ybr_color.dcm (320x240 x 30, JPEG YBR)": _bundled("examples_ybr_color.dcm"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sizes() -> dict[str, int]:
    out: dict[str, int] = {}
    for p in sorted((DIST / "assets").iterdir()):
        key = p.name.split("-")[0] + p.suffix
        out[key] = out.get(key, 0) + p.stat().st_size
    return out


OPEN_JS = """async ([url, dicom]) => {
  const out = [];
  location.hash = url;
  for (;;) {
    const w = window.__labelproof;
    if (w && (!dicom ? w.engine : w.dicom && w.dicom.pending === null)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => requestAnimationFrame(() => r(null)));
  return performance.now();
}"""

WINDOW_JS = """() => {
  const { dicom, engine } = window.__labelproof;
  const render = [], draw = [], direct = [];
  const names = ['lung', 'bone', 'soft', 'brain'];
  for (let i = 0; i < 40; i++) {
    dicom.useTable = i % 2 === 0;  // interleaved: table lookup vs the ramp per pixel
    dicom.preset(names[i % 4]);
    (dicom.useTable ? render : direct).push(dicom.renderMs);
    const t0 = performance.now();
    engine.frame();
    draw.push(performance.now() - t0);
  }
  dicom.useTable = true;
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  return [med(render), med(draw), med(direct)];
}"""

FRAMES_JS = """async () => {
  const d = window.__labelproof.dicom;
  if (d.frames < 2) return null;
  const shown = async (k) => {
    const t0 = performance.now();
    await d.setFrame(k);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    return performance.now() - t0;
  };
  // A jump to a frame nobody decoded yet, then steps back one frame every 50 ms (a wheel
  // turning): each step finds its frame decoded ahead or still decoding.
  const cold = await shown(d.frames - 1);
  const steps = [];
  for (let k = d.frames - 2; k >= Math.max(0, d.frames - 12); k--) {
    await new Promise((r) => setTimeout(r, 50));
    steps.push(await shown(k));
  }
  return [cold, steps.sort((x, y) => x - y)[steps.length >> 1]];
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        exe = [sys.executable, "-m", "labelproof"]
        demo = subprocess.run(
            [*exe, "demo", "--data-dir", str(data)], capture_output=True, text=True, check=True
        ).stdout
        users = {
            m.group(1): (m.group(2), m.group(3)) for m in map(_USER.match, demo.splitlines()) if m
        }
        port = _free_port()
        env = {**os.environ, "LABELPROOF_SIGNIN_ACCOUNT_PER_MINUTE": "100000",
               "LABELPROOF_SIGNIN_ACCOUNT_BURST": "100000"}  # fmt: skip
        proc = subprocess.Popen(
            [*exe, "serve", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            admin = httpx.Client(base_url=url, timeout=120)
            email, password = users["admin"]
            admin.post("/api/auth/login", json={"email": email, "password": password})
            admin.headers["X-CSRF-Token"] = admin.cookies["labelproof_csrf"]
            tasks: dict[str, int] = {}
            png_task = admin.post("/api/projects/1/tasks", json={"asset_ids": [1]})
            tasks["baseline: the demo's PNG (512^2), no DICOM"] = int(png_task.json()[0]["id"])
            for name, blob in files().items():
                up = admin.post(
                    "/api/projects/1/assets",
                    files={"file": (name.split(" ")[0] + ".dcm", blob, "application/dicom")},
                )
                up.raise_for_status()
                t = admin.post("/api/projects/1/tasks", json={"asset_ids": [up.json()["id"]]})
                tasks[name] = int(t.json()[0]["id"])
            rows: dict[str, dict[str, list[float]]] = {n: {} for n in tasks}
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                for run in range(args.runs):
                    for i, (name, task) in enumerate(tasks.items()):
                        print(f"run {run + 1}: {name}", file=sys.stderr, flush=True)
                        ctx = browser.new_context(viewport={"width": 1400, "height": 850})
                        page = ctx.new_page()
                        page.goto(f"{url}/")
                        page.fill("input[name=email]", users["admin"][0])
                        page.fill("input[name=password]", users["admin"][1])
                        page.click("button[type=submit]")
                        page.wait_for_selector("[data-testid=project]")
                        t0 = page.evaluate("() => performance.now()")
                        dicom = not name.startswith("baseline")
                        t1 = page.evaluate(OPEN_JS, [f"#/projects/1/tasks/{task}", dicom])
                        r = rows[name]
                        r.setdefault("open", []).append(t1 - t0)
                        if not dicom:
                            ctx.close()
                            continue
                        render, draw, direct = page.evaluate(WINDOW_JS)
                        r.setdefault("direct", []).append(direct)
                        frames = page.evaluate(FRAMES_JS)
                        r.setdefault("render", []).append(render)
                        r.setdefault("draw", []).append(draw)
                        if frames is not None:
                            r.setdefault("jump", []).append(frames[0])
                            r.setdefault("step", []).append(frames[1])
                        if run == 0 and i == 1:
                            gl = page.evaluate(
                                "() => ['webgl2', 'webgl'].map((k) =>"
                                " !!document.createElement('canvas').getContext(k))"
                            )
                            print(f"WebGL2 / WebGL in this chromium: {gl}")
                        ctx.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def med(r: dict[str, list[float]], k: str) -> str:
        return f"{statistics.median(r[k]):8.1f}" if k in r else "       -"

    print(f"\nmedian of {args.runs} page loads, ms")
    head = ("open", "window", "no table", "draw", "jump", "step")
    print(f"{'asset':52} " + " ".join(f"{h:>8}" for h in head))
    for name, r in rows.items():
        cols = [med(r, k) for k in ("open", "render", "direct", "draw", "jump", "step")]
        print(f"{name:52} {' '.join(cols)}")
    print("\nbuilt app (src/labelproof/web/dist/assets), bytes:")
    for k, v in sizes().items():
        print(f"  {k:36} {v:>10,}")


if __name__ == "__main__":
    main()

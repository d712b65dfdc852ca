"""The annotation workspace's canvas: 5,000 polygons against 500 on a 40,000 x 40,000 tile
pyramid, in the same run and the same headless chromium.

The pyramid is generated on request (Deep Zoom layout, 256 px JPEG tiles, levels 0-16)
by a small HTTP server that also serves the built app; the page is the app's benchmark
route ``#/bench`` (web/src/workspace/bench.tsx), which draws n seeded star-shaped
polygons of 20-60 vertices (radius 0.1-1 % of the side) with the workspace engine.

Measured per object count, median over ``--runs`` page loads:
- time to first full view: navigation start -> every tile of the fitted view loaded and
  all layers drawn (ms);
- a fixed script of 320 steps (zoom in, pan, deeper zoom, pan, zoom out), one step per
  animation frame, recorded with chromium's tracing:
  - ``draw``: our per-frame work, the engine's synchronous drawing (JavaScript that
    records the canvas commands) p50 / p95 / max;
  - ``main_cpu``: the renderer main thread's CPU time per frame (``ProxyMain::
    BeginMainFrame``: our animation-frame JavaScript, style, layout, and the software
    rasterization of every changed canvas) p50 / p95; CPU time, so machine load does
    not inflate it;
  - ``present``: the interval between presented frames (``Display::DrawAndSwap`` of the
    display compositor) p50 / p95: what the issue calls frame time, wall clock, so it
    includes waiting for a CPU on a loaded machine; ``raf`` is the interval between
    animation frames as the page sees it (p95);
  - ``shape_redraws``: steps at which the shapes layer was traced again (the others only
    moved or scaled it with a CSS transform);
- a vertex drag: the largest polygon selected at the fitted view (every object on
  screen), the vertex handle at its first point dragged with the mouse over 30 moves
  (exactly one vertex must move); ``drag_traced`` is the most objects any frame traced
  into the shapes layer from the press to the commit after the drop, ``drag_overlay``
  the most traced into the overlay (the edited polygon), next to ``on_screen``, what a
  full redraw would trace.

    .venv/bin/python benchmarks/workspace.py [--runs 3] [--counts 500,5000]

Chromium runs headless with the flags below and nothing else: software rasterization and
compositing (--disable-gpu; no GPU here), no flag that skips or hides work (no
--disable-frame-rate-limit, no --disable-gpu-vsync, no raised process priority). So
absolute times are pessimistic next to a desktop browser with a GPU; the ratio between
object counts, measured in the same run, is the figure to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import itertools
import json
import math
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
TILE = 256
SIDE = 40_000
_TILE_PATH = re.compile(r"^/bench-tiles/(\d+)/(\d+)_(\d+)\.jpg$")


@functools.lru_cache(maxsize=4096)
def tile_jpeg(level: int, col: int, row: int, width: int, height: int) -> bytes:
    """One tile of a synthetic pyramid: a colour field with a grid, JPEG quality 80."""
    from PIL import Image, ImageDraw

    max_level = math.ceil(math.log2(max(width, height)))
    down = 2 ** (max_level - level)
    lw = math.ceil(width / down)
    lh = math.ceil(height / down)
    w = max(1, min(TILE, lw - col * TILE))
    h = max(1, min(TILE, lh - row * TILE))
    img = Image.new(
        "RGB", (w, h), ((col * 37) % 200 + 30, (row * 53) % 200 + 30, (level * 29) % 200 + 30)
    )
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, w - 1, h - 1], outline=(240, 240, 240))
    draw.text((6, 6), f"{level}/{col}_{row}", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


class Handler(SimpleHTTPRequestHandler):
    dist = DIST

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(self.dist), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        m = _TILE_PATH.match(self.path)
        if not m:
            super().do_GET()
            return
        body = tile_jpeg(int(m[1]), int(m[2]), int(m[3]), SIDE, SIDE)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        # The page may be closed while the tile is on its way.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # closed pages abort tile requests; that is expected here


def ensure_built() -> None:
    if (DIST / "index.html").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("the web app is not built and npm is missing")
    subprocess.run([npm, "run", "build"], cwd=ROOT / "web", check=True)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


TRACE_CATEGORIES = ["viz", "cc", "benchmark"]


def frame_trace(path: Path) -> dict[str, list[float]]:
    """Per-frame figures from a chromium trace: presented-frame intervals (ms, wall) from
    the display compositor's DrawAndSwap, and the main thread's CPU time per frame."""
    raw = json.loads(path.read_text())
    events = raw["traceEvents"] if isinstance(raw, dict) else raw
    threads = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    swaps: list[float] = []
    main_cpu: list[float] = []
    viz_cpu: list[float] = []
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        thread = threads.get((e["pid"], e["tid"]), "")
        if thread == "VizCompositorThread" and e["name"] == "Display::DrawAndSwap":
            swaps.append(e["ts"] / 1000)
            viz_cpu.append(e.get("tdur", e["dur"]) / 1000)
        elif thread == "CrRendererMain" and e["name"] == "ProxyMain::BeginMainFrame":
            main_cpu.append(e.get("tdur", e["dur"]) / 1000)
    swaps.sort()
    return {
        "present": [b - a for a, b in itertools.pairwise(swaps)],
        "main_cpu": main_cpu,
        "viz_cpu": viz_cpu,
    }


def drag_vertex(page: Any) -> dict[str, float]:
    """Drag one vertex of the largest polygon with the mouse; what the frames traced."""
    info = page.evaluate("() => window.__bench.prepareDrag()")
    x, y = info["client"]  # the handle under the pointer (the topmost of close vertices)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(x + i * 2, y + i)
        page.wait_for_timeout(16)
    page.mouse.up()
    res = page.evaluate("() => window.__bench.dragResult()")
    if res["movedVertices"] != 1:
        raise SystemExit(f"the drag should move one vertex of {info['id']}: {res}")
    return {
        "drag_frames": float(res["frames"]),
        "drag_traced": float(res["shapesTracedMax"]),
        "drag_overlay": float(res["overlayTracedMax"]),
        "on_screen": float(res["onScreen"]),
    }


def one_run(browser: Any, url: str, n: int, cache: bool) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    page = context.new_page()
    page.goto(f"{url}/#/bench?n={n}&w={SIDE}&h={SIDE}&seed=7&cache={int(cache)}")
    page.wait_for_function("() => window.__bench && window.__bench.firstViewMs", timeout=120_000)
    first = float(page.evaluate("() => window.__bench.firstViewMs"))
    load = float(page.evaluate("() => window.__bench.loadMs"))
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.json"
        browser.start_tracing(page=page, path=str(trace), categories=TRACE_CATEGORIES)
        res = page.evaluate("() => window.__bench.run()")
        browser.stop_tracing()
        frames = frame_trace(trace)
    drag = drag_vertex(page)
    context.close()
    draw = res["drawMs"]
    return {
        "first_view_ms": first,
        "index_ms": load,
        "draw_p50": pct(draw, 0.5),
        "draw_p95": pct(draw, 0.95),
        "draw_max": max(draw),
        "main_cpu_p50": pct(frames["main_cpu"], 0.5),
        "main_cpu_p95": pct(frames["main_cpu"], 0.95),
        "present_p50": pct(frames["present"], 0.5),
        "present_p95": pct(frames["present"], 0.95),
        "raf_p95": pct(res["intervalMs"][1:], 0.95),
        "shape_redraws": float(res["shapeRedraws"]),
        **drag,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--counts", default="500,5000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--dist",
        type=Path,
        default=None,
        help="serve the app built here (vite build --outDir DIR) instead of the package's "
        "dist folder, which other builds in the same checkout may replace mid-run",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    if args.dist is not None:
        Handler.dist = args.dist
    else:
        ensure_built()
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"

    from playwright.sync_api import sync_playwright

    configs = [(n, cache) for cache in (True, False) for n in counts]
    results: dict[tuple[int, bool], list[dict[str, float]]] = {c: [] for c in configs}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        one_run(browser, url, counts[0], True)  # warm-up: JIT, tile cache on the server
        for _ in range(args.runs):
            for n, cache in configs:  # interleaved so that machine load hits all alike
                results[(n, cache)].append(one_run(browser, url, n, cache))
        browser.close()
    httpd.shutdown()

    keys = list(results[configs[0]][0])
    med = {c: {k: statistics.median(r[k] for r in results[c]) for k in keys} for c in configs}
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(
        f"workspace canvas, {SIDE}x{SIDE} pyramid, median of {args.runs} runs (ms; counts "
        f"for shape_redraws and drag_*); load average at the end {' '.join(load)}"
    )
    width = max(len(k) for k in keys) + 1
    names = [f"{n} {'on' if cache else 'off'}" for n, cache in configs]
    head = " ".join(f"{name:>11}" for name in names)
    print(f"{'objects, shapes cache':<{width}} {head}")
    for k in keys:
        cells = " ".join(f"{med[c][k]:>11.1f}" for c in configs)
        print(f"{k:<{width}} {cells}")
    if len(counts) == 2:
        a, b = counts
        for k in ("first_view_ms", "draw_p95", "main_cpu_p95", "present_p95"):
            ratio = med[(b, True)][k] / max(med[(a, True)][k], 1e-9)
            print(f"ratio {b}/{a} objects, {k}: {ratio:.2f}x")
        for n in counts:
            ratio = med[(n, False)]["draw_p95"] / max(med[(n, True)]["draw_p95"], 1e-9)
            print(f"{n} objects, draw_p95 without / with the shapes cache: {ratio:.2f}x")


if __name__ == "__main__":
    main()

"""The annotation workspace's canvas: 5,000 polygons against 500 on a 40,000 x 40,000 tile
pyramid, in the same run and the same headless chromium.

The pyramid is generated on request (Deep Zoom layout, 256 px JPEG tiles, levels 0-16)
by a small HTTP server that also serves the built app; the page is the app's benchmark
route ``#/bench`` (web/src/workspace/bench.tsx), which draws n seeded star-shaped
polygons of 20-60 vertices (radius 0.1-1 % of the side) with the workspace engine.

Measured per object count, median over ``--runs`` page loads:
- time to first full view: navigation start -> every tile of the fitted view loaded and
  all layers drawn (ms);
- frame draw time on a fixed script of 320 steps (zoom in, pan, deeper zoom, pan, zoom
  out), one step per animation frame: p50 / p95 / max of the engine's synchronous draw
  (image + shapes + overlay layers), and p95 of the interval between animation frames.

    .venv/bin/python benchmarks/workspace.py [--runs 3] [--counts 500,5000]

Headless chromium renders canvas 2D in software here (--disable-gpu), so absolute times
are pessimistic; the ratio between object counts is the figure to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import re
import shutil
import statistics
import subprocess
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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(DIST), **kwargs)

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


def one_run(browser: Any, url: str, n: int, cache: bool) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    page = context.new_page()
    page.goto(f"{url}/#/bench?n={n}&w={SIDE}&h={SIDE}&seed=7&cache={int(cache)}")
    page.wait_for_function("() => window.__bench && window.__bench.firstViewMs", timeout=120_000)
    first = float(page.evaluate("() => window.__bench.firstViewMs"))
    load = float(page.evaluate("() => window.__bench.loadMs"))
    res = page.evaluate("() => window.__bench.run()")
    context.close()
    draw = res["drawMs"]
    return {
        "first_view_ms": first,
        "index_ms": load,
        "draw_p50": pct(draw, 0.5),
        "draw_p95": pct(draw, 0.95),
        "draw_max": max(draw),
        "interval_p95": pct(res["intervalMs"][1:], 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--counts", default="500,5000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
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

    keys = ["first_view_ms", "index_ms", "draw_p50", "draw_p95", "draw_max", "interval_p95"]
    med = {c: {k: statistics.median(r[k] for r in results[c]) for k in keys} for c in configs}
    print(f"workspace canvas, {SIDE}x{SIDE} pyramid, median of {args.runs} runs (ms)")
    print(f"{'objects':>8} {'cache':>6} " + " ".join(f"{k:>13}" for k in keys))
    for n, cache in configs:
        row = " ".join(f"{med[(n, cache)][k]:>13.1f}" for k in keys)
        print(f"{n:>8} {'on' if cache else 'off':>6} {row}")
    if len(counts) == 2:
        a, b = counts
        for k in ("first_view_ms", "draw_p95", "interval_p95"):
            ratio = med[(b, True)][k] / max(med[(a, True)][k], 1e-9)
            print(f"ratio {b}/{a} objects, {k}: {ratio:.2f}x")
        for n in counts:
            ratio = med[(n, False)]["draw_p95"] / max(med[(n, True)]["draw_p95"], 1e-9)
            print(f"{n} objects, draw_p95 without / with the shapes cache: {ratio:.2f}x")


if __name__ == "__main__":
    main()

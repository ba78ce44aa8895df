"""Benchmark: the HTML map of a large park — file size, build time, browser load time.

Usage::

    python bench/bench_map.py                 # 50,000 footprints
    python bench/bench_map.py --footprints 10000

Prints the size of ``map.html`` and how long Chromium (Debian's, headless,
network blocked) takes until every layer is drawn.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footprints", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import landgis
    from landgis.testing.synthetic import make_park

    parcels, footprints, planning = make_park(args.footprints, seed=args.seed)
    audit = landgis.audit(parcels, footprints, planning=planning)
    out = Path(tempfile.mkdtemp()) / "map.html"
    t0 = time.perf_counter()
    audit.map().save(str(out))
    built = time.perf_counter() - t0
    size = out.stat().st_size / 2**20
    print(
        f"park: {len(footprints):,} footprints, {len(parcels):,} parcels, "
        f"{len(audit.findings):,} findings"
    )
    print(f"map.html: {size:.1f} MB, built in {built:.1f} s")

    chromium = shutil.which("chromium")
    if not chromium:
        print("Chromium not found: no load time (apt-get install -y chromium)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        t0 = time.perf_counter()
        page.goto(out.as_uri(), timeout=120_000)
        page.wait_for_function("window.landgis !== undefined", timeout=120_000)
        loaded = time.perf_counter() - t0
        browser.close()
    print(f"browser: every layer drawn {loaded:.1f} s after opening (network blocked)")


if __name__ == "__main__":
    main()

"""The HTML map in a real browser (Debian's headless Chromium through Playwright), offline.

Every request that is not a local file is aborted, as on an office PC without
internet.  Screenshots go to ``$LANDGIS_ARTIFACTS`` (default: the test's tmp dir).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import landgis
from tests.conftest import footprints_frame, parcels_frame, rect
from tests.test_webmap import HOSTILE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium not installed (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


def open_offline(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    events = {"dialogs": [], "errors": [], "blocked": []}
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            events["blocked"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("window.landgis !== undefined", timeout=15000)
    return page, events


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LANDGIS_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    audit = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )
    audit.write_maps(out, png=False)
    return audit, out


def test_demo_map_draws_everything_offline(browser, demo, tmp_path):
    audit, out = demo
    page, events = open_offline(browser, out / "map.html")
    assert events["blocked"]  # the basemap tried the network and was refused …
    assert not events["errors"]  # … and nothing broke
    assert page.locator("path.lg-finding").count() == len(audit.findings)
    assert page.locator("path.lg-redline").count() == len(audit.parcels)
    legend = {
        row.get_attribute("data-category"): int(row.locator(".lg-legend-count").inner_text())
        for row in page.locator(".lg-legend tr[data-category]").all()
    }
    expected = audit.findings["category"].value_counts().to_dict()
    assert {k: v for k, v in legend.items() if not k.startswith("tenure-")} == expected
    page.screenshot(path=str(artifacts(tmp_path) / "map-demo.png"))


def test_click_opens_the_findings_popup(browser, demo, tmp_path):
    audit, out = demo
    page, _ = open_offline(browser, out / "map.html")
    page.locator("path.lg-cat-encroachment").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    row = audit.findings.set_index("category").loc["encroachment"]
    assert row["finding_id"] in text
    assert "2,000.00 平方米（3.00 亩）" in text
    assert "泰州金鼎化工有限公司" in text and "责令退还，核实权属" in text
    page.screenshot(path=str(artifacts(tmp_path) / "map-popup.png"))


def test_street_map_shows_only_its_street(browser, demo):
    audit, out = demo
    page, _ = open_offline(browser, out / "maps" / "京泰路街道.html")
    expected = int((audit.findings["street"] == "京泰路街道").sum())
    assert page.locator("path.lg-finding").count() == expected


def test_hostile_names_run_nothing(browser, tmp_path):
    parcels = parcels_frame(
        [
            (f"P{i}", "requisitioned", name, rect(200 * i, 0, 200 * i + 100, 100))
            for i, name in enumerate(HOSTILE)
        ]
    )
    footprints = footprints_frame(
        [(f"F{i}", name, rect(200 * i, 0, 200 * i + 130, 100)) for i, name in enumerate(HOSTILE)]
    )
    audit = landgis.audit(parcels, footprints)
    path = tmp_path / "hostile.html"
    audit.map().save(str(path))
    page, events = open_offline(browser, path)
    shown = []
    paths = page.locator("path.lg-finding")
    assert paths.count() == len(HOSTILE)
    for i in range(paths.count()):
        page.evaluate("window.landgis.map.closePopup()")
        page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")
        paths.nth(i).click(force=True)
        shown.append(page.locator(".leaflet-popup-content").inner_text())
    assert page.evaluate("window.__xss") is None
    assert not events["dialogs"] and not events["errors"]
    text = "\n".join(shown)
    for name in HOSTILE:
        assert name in text, name  # shown as written: not markup, not template output
    page.screenshot(path=str(artifacts(tmp_path) / "map-hostile.png"))

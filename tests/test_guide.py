"""The user guide builds without a warning and every tutorial example runs.

Needs the ``[docs]`` extra (MkDocs and the Material theme); this test does not
skip without it: a guide that is not built is not checked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide"
TUTORIALS = sorted((GUIDE / "tutorials").glob("*.md"))
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_guide_builds_strictly(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "WARNING" not in log, log
    # Generated from the code at build time:
    for name in ("overview", "rule-excess", "rule-idle", "rule-leased-in", "rule-registers"):
        assert (site / "img" / f"{name}.png").stat().st_size > 5_000
    cli = (site / "cli.html").read_text(encoding="utf-8")
    assert "landgis audit" in cli and "--min-area" in cli and "landgis:cli" not in cli
    gis = (site / "gis.html").read_text(encoding="utf-8")
    assert "CAT_LABEL" in gis and "WORK_GROUP" in gis
    reference = (site / "en" / "reference.html").read_text(encoding="utf-8")
    assert "Finding categories" in reference and "landgis:reference" not in reference
    # Offline: no web fonts, no page pulling from elsewhere.
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in index
    assert (site / "index.html").read_text(encoding="utf-8").count("技术人员") >= 1


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in GUIDE.rglob("*.md"):
        assert page.relative_to(GUIDE).as_posix() in config, page


@pytest.mark.parametrize("page", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_code_runs(page, tmp_path, monkeypatch):
    blocks = _BLOCK.findall(page.read_text(encoding="utf-8"))
    assert blocks, f"{page.name}: no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__tutorial__"}
    for i, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{page.name} example {i}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name}, example {i} fails:\n{code}") from exc

"""The A4 print list of a street: self-contained, one card and small map per finding."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest
import shapely

import landgis
from landgis.present.printlist import finding_map_png, printlist_html, write_printlist

HOSTILE = "<img src=x onerror=alert(1)>&{{ 6*7 }}"


@pytest.fixture(scope="module")
def audit():
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(text: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_one_card_and_map_per_finding_offline(audit, tmp_path):
    street = audit.findings["street"].iloc[0]
    sel = audit.findings[audit.findings["street"] == street]
    path = write_printlist(
        sel,
        tmp_path / "list.html",
        street=street,
        parcels=audit.parcels,
        footprints=audit.footprints,
    )
    text = path.read_text(encoding="utf-8")
    assert "@page { size: A4" in text
    tags = _parse(text)
    # Nothing fetched from anywhere: no script, no link, no remote image or font.
    assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object")]
    rest = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"https?:|//[a-z]|url\(|@import|@font-face", rest)
    images = [a["src"] for t, a in tags if t == "img"]
    assert len(images) == len(sel)
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    articles = [t for t, _ in tags if t == "article"]
    assert len(articles) == len(sel)
    for row in sel.itertuples():
        assert row.finding_id in text and row.action in text and str(row.deadline) in text
        assert f"{row.area_mu:,.2f} 亩" in text
    assert street in text


def test_text_from_the_input_is_escaped(audit):
    findings = audit.findings.head(2).copy()
    findings["holder"] = HOSTILE
    text = printlist_html(findings, street=HOSTILE, maps=False)
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;{{ 6*7 }}" in text


def test_small_map_is_a_small_png(audit):
    row = audit.findings.iloc[0]
    png = finding_map_png(row.geometry, row.category)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 1_000 < len(png) < 60_000
    assert finding_map_png(shapely.Polygon(), row.category) == b""

"""HTML maps without a browser: offline assets, data as text, street and department maps."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import landgis
from landgis.cli import main
from landgis.present.webmap import DEPARTMENT_CATEGORIES, build_map, map_html, write_maps
from tests.conftest import footprints_frame, parcels_frame, rect

#: Names that are markup, script or template code; all must stay plain text.
HOSTILE = [
    '<img src=x onerror="window.__xss=1">',
    "</script><script>window.__xss=2</script>",
    "{{ 6*7 }}",
    "{{ cycler.__init__.__globals__.os.name }}",
    "{% if 1 %}x{% endif %}",
    "{# comment",
    "${window.__xss=3}",
    '=HYPERLINK("http://evil")',
]


def page_data(html: str) -> dict:
    """The JSON block the page's script reads."""
    match = re.search(
        r'<script type="application/json" id="landgis-data">(.*?)</script>', html, re.S
    )
    assert match, "no data block"
    return json.loads(match.group(1))


def column(data: dict, prefix: str, name: str) -> list:
    """One property of every feature in the layers whose id starts with ``prefix``."""
    return [
        v
        for layer in data["layers"]
        if layer["id"].startswith(prefix)
        for v in layer["props"].get(name, [None] * len(layer["shapes"]["rings"]))
    ]


def first_point(layer: dict) -> tuple[float, float]:
    """The first vertex of a layer's first shape, decoded as the page decodes it."""
    shapes = layer["shapes"]
    x, y = shapes["rings"][0][0][0][:2]
    return shapes["origin"][0] + x * shapes["quantum"], shapes["origin"][1] + y * shapes["quantum"]


@pytest.fixture(scope="module")
def sample():
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )


@pytest.fixture(scope="module")
def hostile():
    parcels = parcels_frame(
        [
            (f"P{i}", "requisitioned", name, rect(200 * i, 0, 200 * i + 100, 100))
            for i, name in enumerate(HOSTILE)
        ]
    )
    parcels["street"] = HOSTILE
    footprints = footprints_frame(
        [(f"F{i}", name, rect(200 * i, 0, 200 * i + 130, 100)) for i, name in enumerate(HOSTILE)]
    )
    return landgis.audit(parcels, footprints)


def test_page_needs_no_network(sample):
    html = map_html(sample.map())
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "L.map(" in html and "leaflet" in html.lower()
    assert "url(images/" not in html  # layer-switcher icons inlined
    # Left: the basemap's tile template, the SVG namespace, Leaflet's attribution link.
    hosts = set(re.findall(r'"(https?://[^"/]+)', html))
    assert hosts <= {"https://tile.openstreetmap.org", "http://www.w3.org", "https://leafletjs.com"}


def test_data_block_holds_every_finding_and_red_line(sample):
    data = page_data(map_html(sample.map()))
    assert sorted(column(data, "finding-", "finding_id")) == sorted(sample.findings["finding_id"])
    assert sorted(column(data, "redline-", "parcel_id")) == sorted(sample.parcels["parcel_id"])
    legend = {r["code"]: r["count"] for r in data["legend"]["rows"]}
    assert legend == {
        **sample.findings["category"].value_counts().to_dict(),
        **{f"tenure-{t}": n for t, n in sample.parcels["tenure"].value_counts().items()},
    }


def test_template_code_in_names_is_not_evaluated(hostile):
    html = map_html(hostile.map())  # must not raise on {% or {#
    data = page_data(html)
    holders = set(column(data, "finding-", "holder")) | set(column(data, "redline-", "holder"))
    assert set(HOSTILE) <= holders
    assert "42" not in holders and "posix" not in holders


def test_data_cannot_close_its_script_element(hostile):
    html = map_html(hostile.map())
    block = re.search(r'id="landgis-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and ">" not in block  # escaped as \u003c / \u003e
    assert "window.__xss" not in html.replace(block, "")  # only inside the data block


def test_street_map_holds_only_its_findings(sample, tmp_path):
    written = write_maps(
        tmp_path,
        sample.findings,
        parcels=sample.parcels,
        footprints=sample.footprints,
        planning=sample.planning,
        admin=sample.admin,
        png=False,
    )
    for street in ("城东街道", "京泰路街道"):
        data = page_data(written[f"maps/{street}.html"].read_text(encoding="utf-8"))
        ids = set(column(data, "finding-", "finding_id"))
        expected = set(sample.findings.loc[sample.findings["street"] == street, "finding_id"])
        assert ids == expected and ids
    for department, codes in DEPARTMENT_CATEGORIES.items():
        data = page_data(written[f"maps/{department}.html"].read_text(encoding="utf-8"))
        cats = {
            layer["id"].removeprefix("finding-")
            for layer in data["layers"]
            if layer["id"].startswith("finding-")
        }
        assert cats == set(codes) & set(sample.findings["category"])


def test_street_file_names_are_safe(hostile, tmp_path):
    written = write_maps(tmp_path, hostile.findings, parcels=hostile.parcels, png=False)
    for path in written.values():
        assert path.resolve().is_relative_to(tmp_path.resolve())
    names = [p.name for p in (tmp_path / "maps").iterdir()]
    assert all(re.fullmatch(r"[\w\-·]+\.html", n) for n in names), names
    assert len(names) == len(HOSTILE) + len(DEPARTMENT_CATEGORIES)


def test_gaode_shifts_every_layer(sample):
    plain = page_data(map_html(build_map(sample.findings, parcels=sample.parcels)))
    gaode = page_data(map_html(build_map(sample.findings, parcels=sample.parcels, basemap="gaode")))
    a, b = first_point(plain["layers"][0]), first_point(gaode["layers"][0])
    assert 0.002 < b[0] - a[0] < 0.01 and -0.01 < b[1] - a[1] < 0.0  # Taizhou: ~450 m east
    assert gaode["bounds"][0][1] - plain["bounds"][0][1] == pytest.approx(b[0] - a[0], abs=2e-5)


def test_tianditu_needs_a_key(sample, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(landgis.ConfigError, match="needs a key"):
        build_map(sample.findings, basemap="tianditu")
    html = map_html(build_map(sample.findings, basemap="tianditu", tianditu_key="KEY123"))
    assert "tk=KEY123" in html and "vec_w" in html and "cva_w" in html


def test_map_command_and_audit_map_option(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    for name in (
        "map.html",
        "map.png",
        "maps/城东街道.html",
        "maps/京泰路街道.png",
        "maps/自然资源和规划局.html",
        "maps/城管局.html",
    ):
        assert (tmp_path / name).stat().st_size > 1000, name
    (tmp_path / "map.html").unlink()
    result = runner.invoke(main, ["map", str(tmp_path), "--basemap", "none", "--no-png"])
    assert result.exit_code == 0, result.output
    assert page_data((tmp_path / "map.html").read_text(encoding="utf-8"))["bases"] == []


def test_png_overview_is_an_image(sample, tmp_path):
    from landgis.present.png import write_png

    path = write_png(tmp_path / "o.png", sample.findings, parcels=sample.parcels)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

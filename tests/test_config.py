"""Campaign configuration: defaults, the documented template, overrides and errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import landgis
from landgis.config import Campaign, load_campaign
from landgis.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "campaign.toml"


def test_documented_template_equals_the_defaults():
    assert load_campaign(DOCS) == Campaign()


def test_campaign_deadlines():
    c = Campaign()
    assert c.deadline("area_mismatch") == dt.date(2024, 6, 30)
    assert c.deadline("rent_arrears") == dt.date(2024, 9, 30)
    assert c.deadline("outside_redline") == dt.date(2024, 12, 31)
    assert c.deadline("low_efficiency") == dt.date(2024, 12, 31)


def test_category_deadline_wins_over_stage(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[deadlines]\nrectify = 2025-03-31\noutside_redline = 2024-11-30\n[audit]\nmin_area = 0\n",
        encoding="utf-8",
    )
    c = load_campaign(path)
    assert c.deadline("outside_redline") == dt.date(2024, 11, 30)
    assert c.deadline("encroachment") == dt.date(2025, 3, 31)
    assert c.min_area == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[deadline]\n", r"unknown section \[deadline\]"),
        ("[audit]\nmin_area = -1\n", r"min_area=-1.0 must be 0 or more"),
        ("[audit]\nmin_area = nan\n", r"min_area=nan must be 0 or more"),
        ("[audit]\nidle = 0.2\n", r"unknown key\(s\) \['idle'\] in \[audit\]"),
        ("[audit]\nidle_ratio = 'x'\n", r"audit.idle_ratio = 'x' is not a number"),
        ("[deadlines]\nrectfy = 2024-01-01\n", r"unknown stage or category \['rectfy'\]"),
        ("[deadlines\n", r"not valid UTF-8 TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as exc:
        load_campaign(path)
    assert str(path) in str(exc.value)


def test_options_override_config():
    c = load_campaign({"audit": {"min_area": 5}}).with_options(min_area=0, idle_ratio=None)
    assert c.min_area == 0 and c.idle_ratio == 0.1


def test_agricultural_park_routing_is_configurable():
    a = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        config={
            "routing": {
                "agricultural_park_zones": ["高新产业区"],
                "agricultural_park_group": "高新区组",
            }
        },
    )
    groups = a.findings.set_index("category")["group"]
    assert groups["encroachment"] == "高新区组"  # 新泰's strip lies in 高新产业区
    assert groups["overuse_requisitioned"] == "企业组"

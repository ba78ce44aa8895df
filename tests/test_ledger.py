"""The case ledger: hand entries survive new rounds; concurrent writers cannot corrupt it.

The rounds are those of tests/test_monitor.py (the sample park, re-surveyed
with a 0.3 m shift each time).  Every test of the ledger's behaviour runs on both
backends (``ledger_target``/``ledger_places`` in tests/conftest.py): an SQLite file
and a fresh schema on the PostgreSQL test server (skipped, with the reason, when no
server is given outside CI).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from landgis.monitor import Ledger, LedgerError
from landgis.monitor.ledger import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import LEDGER_BACKENDS, LedgerPlaces
from tests.test_monitor import findings, rect

HUA = "泰州华达精密机械有限公司"
XIN = "泰州新泰电子科技有限公司"
LYU = "泰州绿源食品有限公司"
HONG = "泰州宏远物流有限公司"
JIN = "泰州金鼎化工有限公司"
JIA = "泰州嘉禾农业发展有限公司"


def case_of(ledger: Ledger, holder: str, category: str) -> str:
    cases = ledger.cases(geometry=False)
    sel = cases[(cases["holder"] == holder) & (cases["category"] == category)]
    assert len(sel) == 1, sel
    return sel["case_id"].iloc[0]


def three_rounds(path: Path | str) -> Ledger:
    """R1, hand entries, R2, hand entries, R3 (see the assertions below for the story)."""
    ledger = Ledger(path)
    ledger.update(findings(1), date="2024-03-15")
    ledger.set(
        case_of(ledger, HUA, "overuse_requisitioned"),
        status="整改中",
        person="张三",
        note="已下达限期整改通知书",
        date="2024-04-01",
    )
    ledger.set(
        case_of(ledger, XIN, "encroachment"),
        status="judicial",
        person="李四",
        note="已移送法院",
        deadline="2025-03-31",
        date="2024-04-02",
    )
    ledger.set(
        case_of(ledger, LYU, "outside_redline"),
        status="整改中",
        person="王五",
        note="约谈企业",
        date="2024-04-03",
    )
    ledger.set(case_of(ledger, JIN, "idle_requisitioned"), person="赵六", date="2024-04-04")
    ledger.update(findings(2), date="2024-09-15")
    ledger.set(
        case_of(ledger, HONG, "unleased_use"),
        status="已销号",
        note="现场核实已拆除",
        date="2024-09-20",
    )
    ledger.set(
        case_of(ledger, JIA, "outside_redline"),
        status="已处置",
        note="已补办手续",
        date="2024-09-21",
    )
    ledger.update(findings(3), date="2024-12-20")
    return ledger


@pytest.fixture(scope="module", params=LEDGER_BACKENDS)
def story(request, tmp_path_factory):
    places = LedgerPlaces(request.param, tmp_path_factory.mktemp("story"))
    yield three_rounds(places())
    places.close()


def test_hand_entries_survive_two_further_rounds(story):
    cases = story.cases().set_index("case_id")
    assert len(cases) == 16
    assert story.rounds()[["round", "new", "persisting", "resolved"]].values.tolist() == [
        ["R1", 14, 0, 0],
        ["R2", 2, 11, 3],
        ["R3", 0, 13, 2],  # 绿源's shed matched its case awaiting confirmation
    ]
    hua = cases.loc[case_of(story, HUA, "overuse_requisitioned")]
    assert (hua["status"], hua["person"]) == ("整改中", "张三")
    assert hua["notes"] == "2024-04-01：已下达限期整改通知书"
    assert hua["area_m2"] == pytest.approx(4000) and hua["opened_area_m2"] == pytest.approx(2000)
    assert hua["opened"] == "2024-03-15" and hua["last_seen"] == "2024-12-20"
    assert hua["last_round"] == "R3" and pd.isna(hua["closed"])

    xin = cases.loc[case_of(story, XIN, "encroachment")]
    assert (xin["status"], xin["person"], xin["deadline"]) == ("移交司法", "李四", "2025-03-31")

    lyu = cases.loc[case_of(story, LYU, "outside_redline")]  # gone in R2, back in R3
    assert (lyu["status"], lyu["person"]) == ("整改中", "王五")
    assert lyu["notes"].splitlines()[0] == "2024-04-03：约谈企业"
    assert "待确认销号" in lyu["notes"] and "再次出现" in lyu["notes"]
    assert lyu["status_round"] == "R3"

    hong = cases.loc[case_of(story, HONG, "unleased_use")]
    assert (hong["status"], hong["closed"], hong["last_round"]) == ("已销号", "2024-09-20", "R1")

    jin = cases.loc[case_of(story, JIN, "idle_requisitioned")]
    assert (jin["status"], jin["person"], jin["status_round"]) == ("待确认销号", "赵六", "R2")

    # 嘉禾's shed outside the red line, declared disposed (已处置) after R2, is found again
    # by R3: the case is reopened as a relapse (反弹), with its history.
    jia = cases.loc[case_of(story, JIA, "outside_redline")]
    assert (jia["status"], jia["last_round"], jia["status_round"]) == ("待核实", "R3", "R3")
    assert "反弹" in jia["notes"] and "原为已处置" in jia["notes"]
    assert jia["area_m2"] == pytest.approx(1000)
    kinds = story.history(jia.name)["kind"].tolist()
    assert kinds == ["opened", "set", "relapse"]

    over = cases.loc[case_of(story, LYU, "overuse_leased")]
    assert (over["status"], over["status_round"]) == ("待确认销号", "R3")

    # the campaign deadline of every case not set by hand
    others = cases.drop(index=[xin.name])
    assert set(others["deadline"]) == {"2024-06-30", "2024-12-31"}


def test_each_round_finding_id_is_kept(story):
    ids = story.case_findings()
    hua = ids[ids["case_id"] == case_of(story, HUA, "overuse_requisitioned")]
    assert hua["round"].tolist() == ["R1", "R2", "R3"]
    assert hua["finding_id"].nunique() == 3  # the shift changed the id each round
    for n, fid in zip((1, 2, 3), hua["finding_id"], strict=True):
        assert fid in set(findings(n)["finding_id"])
    lyu = ids[ids["case_id"] == case_of(story, LYU, "outside_redline")]
    assert lyu["round"].tolist() == ["R1", "R3"] and lyu["change"].tolist() == [
        "new",
        "reappeared",
    ]
    assert (
        story.cases().set_index("case_id").loc[hua["case_id"].iloc[0], "finding_id"]
        == (hua["finding_id"].iloc[-1])
    )


def test_history(story):
    history = story.history(case_of(story, LYU, "outside_redline"))
    assert history["kind"].tolist() == ["opened", "set", "resolved", "reappeared"]
    assert history["status_to"].tolist() == ["待核实", "整改中", "待确认销号", "整改中"]
    assert history["round"].tolist() == ["R1", "R1", "R2", "R3"]


def test_rounds_in_order_and_once(ledger_target):
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), round="2024-03", date="2024-03-15")
    with pytest.raises(LedgerError, match="already entered"):
        ledger.update(findings(2), round="2024-03", date="2024-09-15")
    with pytest.raises(LedgerError, match="before the latest round"):
        ledger.update(findings(2), round="2024-02", date="2024-02-15")
    with pytest.raises(LedgerError, match="unknown status"):
        ledger.set("2024-0001", status="done")
    with pytest.raises(LedgerError, match="no case"):
        ledger.set("2024-9999", note="x")
    with pytest.raises(LedgerError, match="not a date"):
        ledger.set("2024-0001", deadline="31/12/2024")
    assert len(ledger.rounds()) == 1


def test_a_failed_update_changes_nothing(ledger_target, monkeypatch):
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), date="2024-03-15")
    before = ledger.cases(geometry=False)
    calls = []

    def boom(self, con, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk pulled out")
        return original(self, con, *args)

    original = Ledger._open_case
    monkeypatch.setattr(Ledger, "_open_case", boom)
    with pytest.raises(RuntimeError):
        ledger.update(findings(2), date="2024-09-15")
    pd.testing.assert_frame_equal(ledger.cases(geometry=False), before)
    assert ledger.rounds()["round"].tolist() == ["R1"]
    assert len(ledger.case_findings()) == 14


def _frame(rows):
    return gpd.GeoDataFrame(
        {
            "finding_id": [r[0] for r in rows],
            "category": "outside_redline",
            "holder": [r[1] for r in rows],
            "street": "城东街道",
            "group": "企业组",
            "deadline": "2024-12-31",
        },
        geometry=[r[2] for r in rows],
        crs=4528,
    )


def test_pieces_grown_together_merge_their_cases(ledger_target):
    ledger = Ledger(ledger_target)
    ledger.update(
        _frame([("A", "甲", rect(0, 0, 30, 10)), ("B", "甲", rect(40, 0, 70, 10))]),
        date="2024-03-15",
    )
    ledger.set("2024-0002", status="整改中", note="B 已约谈")
    diff = ledger.update(_frame([("AB", "甲", rect(0, 0, 70, 10))]), date="2024-09-15")
    assert diff["case_id"].tolist() == ["2024-0001"]
    cases = ledger.cases().set_index("case_id")
    assert cases.loc["2024-0001", "area_m2"] == pytest.approx(700)
    assert cases.loc["2024-0002", "status"] == "已合并"
    assert (
        "并入该案件" in cases.loc["2024-0002", "notes"]
        and "B 已约谈" in cases.loc["2024-0002", "notes"]
    )
    # a merged case is never matched again
    ledger.update(_frame([("AB2", "甲", rect(0, 0, 70, 10))]), date="2024-12-15")
    assert ledger.cases().set_index("case_id").loc["2024-0001", "finding_id"] == "AB2"
    assert len(ledger.cases()) == 2


def test_thin_new_pieces(ledger_target):
    ledger = Ledger(ledger_target)
    ledger.update(_frame([("A", "甲", rect(0, 0, 30, 10))]), date="2024-03-15")
    sliver = _frame([("A", "甲", rect(0, 0, 30, 10)), ("S", "乙", rect(0, 20, 100, 20.3))])
    diff = ledger.update(sliver, date="2024-09-15", skip_thin=True)
    assert diff.set_index("new_id").loc["S", "case_id"] == "" and len(ledger.cases()) == 1
    ledger.update(sliver.assign(finding_id=["A", "S2"]), date="2024-10-15")
    opened = ledger.cases().iloc[-1]
    assert opened["thin"] and "测量偏差" in opened["notes"]


def test_file_layout(story):
    if story.backend != "sqlite":
        pytest.skip("the SQLite file's layout; see test_server_layout")
    con = sqlite3.connect(story.path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"schema_version", "meta", "rounds", "cases", "case_findings", "events"} <= tables
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    crs = dict(con.execute("SELECT key, value FROM meta").fetchall())["crs_name"]
    assert crs == "EPSG:4528"
    con.close()
    geoms = story.cases()
    assert geoms.crs.to_epsg() == 4528 and geoms.geometry.notna().all()


def test_what_is_not_a_ledger(tmp_path):
    import shutil

    import landgis

    gpkg = tmp_path / "parcels.gpkg"
    shutil.copy(landgis.get_path("parcels"), gpkg)
    with pytest.raises(LedgerError, match="GeoPackage"):
        Ledger(gpkg)
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, just text" * 100)
    with pytest.raises(LedgerError, match="not a landgis ledger"):
        Ledger(text)
    with pytest.raises(LedgerError, match="no such ledger"):
        Ledger(tmp_path / "missing.sqlite", create=False)
    newer = tmp_path / "newer.sqlite"
    Ledger(newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_version VALUES (99, 'x', 'y')")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="upgrade landgis"):
        Ledger(newer)
    plain = Ledger(tmp_path / "share.sqlite", wal=False)
    con = sqlite3.connect(plain.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_export(story, tmp_path):
    from openpyxl import load_workbook

    xlsx = story.export(tmp_path / "cases.xlsx")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["案件台账", "处置记录", "各轮编号", "调查轮次"]
    header = [c.value for c in wb["案件台账"][1]]
    assert header[:4] == ["案件编号", "状态", "责任人", "备注"]
    row = next(wb["案件台账"].iter_rows(min_row=2, values_only=True))
    assert isinstance(row[header.index("面积（亩）")], int | float)  # a number, not text
    csv = story.export(tmp_path / "cases.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(pd.read_csv(csv, encoding="utf-8-sig")) == 16
    gpkg = story.export(tmp_path / "cases.gpkg")
    layer = gpd.read_file(gpkg, layer="cases")
    assert len(layer) == 16 and layer.crs.to_epsg() == 4528
    if story.path is not None:
        with pytest.raises(LedgerError, match="ledger itself"):
            story.export(story.path)
    with pytest.raises(LedgerError, match=r"\.csv, \.xlsx or \.gpkg"):
        story.export(tmp_path / "cases.txt")


# ---------------------------------------------------------------------- concurrency

_HAMMER = textwrap.dedent(
    """
    import random, sys, time
    from landgis.monitor.ledger import Ledger
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = Ledger(path, create=False)
    ids = ledger.cases(geometry=False)["case_id"].tolist()
    rng = random.Random(tag)
    for i in range(n):
        ledger.set(rng.choice(ids), person=tag, note=f"{tag}-{i}",
                   status=rng.choice(["待核实", "整改中", "移交司法"]), by=tag)
        time.sleep(0.01)  # a clerk's pace: still at work when the round comes in
    """
)


def _check_consistent(ledger: Ledger) -> pd.DataFrame:
    if ledger.path is not None:
        con = sqlite3.connect(ledger.path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        con.close()  # the server checks its foreign keys itself
    cases = ledger.cases(geometry=False).set_index("case_id")
    history = ledger.history()
    for case_id, events in history.groupby("case_id"):
        changes = events.dropna(subset=["status_to"])
        assert cases.loc[case_id, "status"] == changes["status_to"].iloc[-1]
        hand = events.loc[events["kind"] == "set", "note"].dropna().tolist()
        lines = [
            line.split("：", 1)[1] for line in cases.loc[case_id, "notes"].splitlines() if line
        ]
        assert [x for x in lines if not x.startswith("【系统】")] == hand  # no note lost
    return history


def test_concurrent_writers_in_processes(ledger_target):
    """Two processes record 120 entries each while this one enters round 2."""
    n = 120
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), date="2024-03-15")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, str(ledger_target), tag, str(n)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for tag in ("A", "B")
    ]
    deadline = time.monotonic() + 20
    while ledger.history()["kind"].eq("set").sum() < 10 and time.monotonic() < deadline:
        time.sleep(0.02)  # the writers are at work
    diff = ledger.update(findings(2), date="2024-09-15")
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    history = _check_consistent(ledger)
    sets = history[history["kind"] == "set"]
    assert len(sets) == 2 * n
    assert sorted(sets["note"]) == sorted(f"{t}-{i}" for t in "AB" for i in range(n))
    assert diff["status"].value_counts().to_dict() == {"persisting": 11, "resolved": 3, "new": 2}
    assert len(ledger.cases()) == 16 and ledger.rounds()["round"].tolist() == ["R1", "R2"]
    # the round landed between entries: some were made before it, some after
    assert set(sets["round"]) == {"R1", "R2"}


def test_the_same_round_entered_twice_at_once(ledger_target):
    path = ledger_target
    Ledger(path).update(findings(1), date="2024-03-15")
    outcomes: list = []
    barrier = threading.Barrier(2)

    def enter():
        ledger = Ledger(path)
        barrier.wait()
        try:
            ledger.update(findings(2), round="2024-09", date="2024-09-15")
            outcomes.append("ok")
        except LedgerError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=enter) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert "already entered" in next(o for o in outcomes if o != "ok")
    ledger = Ledger(path)
    assert len(ledger.cases()) == 16 and len(ledger.case_findings()) == 14 + 13
    _check_consistent(ledger)


def test_threads_hammering(ledger_target):
    path = ledger_target
    Ledger(path).update(findings(1), date="2024-03-15")
    ids = Ledger(path).cases(geometry=False)["case_id"].tolist()

    def work(tag):
        ledger = Ledger(path)
        for i in range(40):
            ledger.set(ids[i % len(ids)], note=f"{tag}-{i}", status="整改中" if i % 2 else "待核实")

    threads = [threading.Thread(target=work, args=(t,)) for t in "ABC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = _check_consistent(Ledger(path))
    assert (history["kind"] == "set").sum() == 120


def test_a_writer_killed_mid_transaction_leaves_the_ledger_whole(ledger_target):
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), date="2024-03-15")
    before = ledger.cases(geometry=False)
    script = (
        "import os, sqlite3, sys\n"
        "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "con.execute('BEGIN IMMEDIATE')\n"
        "con.execute(\"UPDATE cases SET status = '已销号', notes = 'half'\")\n"
        "con.execute('DELETE FROM case_findings')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(ledger.path)], check=False)
    assert done.returncode != 0
    pd.testing.assert_frame_equal(ledger.cases(geometry=False), before)
    ledger.update(findings(2), date="2024-09-15")  # and it takes the next round
    _check_consistent(ledger)


# ---------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def server_ledger():
    """A new, empty schema on the PostgreSQL test server (skips without one)."""
    places = LedgerPlaces("postgresql", None)
    yield places
    places.close()


def _server(url: str):
    import psycopg

    from landgis.monitor.store import _conninfo

    conninfo, schema = _conninfo(url)
    con = psycopg.connect(conninfo, autocommit=True)
    con.execute(f"SET search_path TO {schema}, public")
    return con


def test_server_layout(story):
    """On PostgreSQL the cases are a PostGIS layer in the ledger's CRS (QGIS opens it)."""
    if story.backend != "postgresql":
        pytest.skip("the server's layout; see test_file_layout")
    con = _server(_target_of(story))
    versions = con.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(SCHEMA_VERSION,)]
    column = con.execute(
        "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'cases' "
        "AND f_table_schema = current_schema()"
    ).fetchone()
    assert column == ("GEOMETRY", 4528)
    area = con.execute(
        "SELECT sum(ST_Area(geometry)) FROM cases WHERE geometry IS NOT NULL"
    ).fetchone()[0]
    assert area == pytest.approx(story.cases().area.sum())
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert meta["crs_name"] == "EPSG:4528" and meta["srid"] == "4528"
    con.close()


_QGIS_LIVE_LAYER = r"""
import json, os, sys
from urllib.parse import parse_qsl, urlsplit
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
url = urlsplit(sys.argv[1])
uri = QgsDataSourceUri()
uri.setConnection(url.hostname, str(url.port), url.path.lstrip("/"), url.username, "")
uri.setDataSource(dict(parse_qsl(url.query))["schema"], "cases", "geometry", "", "case_id")
layer = QgsVectorLayer(uri.uri(False), "cases", "postgres")
features = list(layer.getFeatures())
print(json.dumps({
    "valid": layer.isValid(),
    "crs": layer.crs().authid(),
    "status": {f["case_id"]: f["status"] for f in features},
    "area": sum(f.geometry().area() for f in features if f.hasGeometry()),
}, ensure_ascii=False))
"""


def test_qgis_opens_the_live_ledger(ledger_places):
    """QGIS's own PostgreSQL provider opens the cases as a layer and sees a clerk's edit."""
    from tests.test_qgis import _system_qgis

    if ledger_places.backend != "postgresql":
        pytest.skip("the server's layout; a SQLite ledger is not a QGIS layer")
    if not _system_qgis():
        pytest.skip("QGIS (Debian python3-qgis) not installed")
    story = three_rounds(ledger_places())

    def qgis_reads() -> dict:
        done = subprocess.run(
            ["/usr/bin/python3", "-c", _QGIS_LIVE_LAYER, _target_of(story)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    cases = story.cases()
    seen = qgis_reads()
    assert seen["valid"] and seen["crs"] == "EPSG:4528"
    assert seen["status"] == dict(zip(cases["case_id"], cases["status"], strict=True))
    assert seen["area"] == pytest.approx(cases.area.sum())
    open_case = cases.loc[cases["status"] != "整改中", "case_id"].iloc[0]
    story.set(open_case, status="整改中", person="测试员")
    assert qgis_reads()["status"][open_case] == "整改中"


def _target_of(ledger: Ledger) -> str:
    return ledger._store.location  # the test server's URLs carry no password


def test_what_is_not_a_ledger_on_the_server(server_ledger):
    url = server_ledger()
    with pytest.raises(LedgerError, match="no ledger in this database"):
        Ledger(url, create=False)
    with pytest.raises(LedgerError, match="no ledger in this database"):
        Ledger(url, read_only=True)
    con = _server(url)
    con.execute(f"CREATE SCHEMA {url.rsplit('=', 1)[1]}")
    con.execute("CREATE TABLE cases (x int)")
    with pytest.raises(LedgerError, match="holds other tables"):
        Ledger(url)
    con.execute("DROP TABLE cases")
    Ledger(url)
    con.execute("INSERT INTO schema_version VALUES (99, 'x', 'y')")
    with pytest.raises(LedgerError, match="upgrade landgis"):
        Ledger(url)
    con.close()
    with pytest.raises(LedgerError, match="schema"):
        Ledger(url.rsplit("=", 1)[0] + "=Bad-Name")


def test_a_read_only_server_user(server_ledger):
    url = server_ledger()
    Ledger(url).update(findings(1), date="2024-03-15")
    con = _server(url)
    schema = url.rsplit("=", 1)[1]
    user = f"reader_{schema}"
    con.execute(f"CREATE ROLE {user} LOGIN")
    try:
        con.execute(f"GRANT USAGE ON SCHEMA {schema} TO {user}")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {user}")
        reader = Ledger(url.replace("://postgres@", f"://{user}@"))
        assert reader.read_only and len(reader.cases()) == 14
        with pytest.raises(LedgerError, match=r"is read-only .*nothing was changed"):
            reader.set("2024-0001", note="x")
    finally:
        con.execute(f"DROP OWNED BY {user}")
        con.execute(f"DROP ROLE {user}")
        con.close()


def test_connection_errors_name_the_server_and_hide_the_password():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pytest.importorskip("psycopg")
    url = f"postgresql://clerk:Zq9-secret@127.0.0.1:{port}/ledger"
    with pytest.raises(LedgerError) as caught:
        Ledger(url, timeout=2)
    message = str(caught.value)
    assert "Zq9-secret" not in message and "clerk:***@" in message
    assert f"cannot connect to the PostgreSQL server 127.0.0.1:{port}" in message
    assert "check that the server is running" in message


def test_the_password_is_never_shown(server_ledger, tmp_path):
    from landgis.monitor.store import mask_url

    url = server_ledger().replace("://postgres@", "://postgres:Zq9-secret@")  # trust auth
    ledger = Ledger(url)
    ledger.update(findings(1), date="2024-03-15")
    assert "Zq9-secret" not in ledger.location + repr(ledger)
    assert ledger.location == mask_url(url)
    with pytest.raises(LedgerError) as caught:
        ledger.set("2099-0001", note="x")
    assert "Zq9-secret" not in str(caught.value) and "postgres:***@" in str(caught.value)
    server_ledger.made.append(url)
    # nor in what the commands print, nor in the files they write
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from landgis.cli import main

    for args in (
        ["ledger", "show"],
        ["ledger", "set", "2099-0001", "--note", "x"],
        ["ledger", "set", "2024-0001", "--note", "x"],
        ["ledger", "sheets", "-o", str(tmp_path / "sheets")],
        ["progress", "-o", str(tmp_path / "progress")],
    ):
        done = CliRunner().invoke(main, [*args, "--ledger", url])
        assert "Zq9-secret" not in done.output, args
        assert "***" in done.output or "wrote" in done.output or done.exit_code == 0, args
    for sheet in (tmp_path / "sheets").iterdir():
        wb = load_workbook(sheet)
        cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
        assert not [c for c in cells if "Zq9-secret" in c]
        assert any("postgres:***@" in c for c in cells)
    for path in (tmp_path / "progress").iterdir():
        assert b"Zq9-secret" not in path.read_bytes()


def test_a_server_writer_killed_mid_transaction_leaves_the_ledger_whole(server_ledger):
    url = server_ledger()
    ledger = Ledger(url)
    ledger.update(findings(1), date="2024-03-15")
    before = ledger.cases(geometry=False)
    script = (
        "import os, sys, psycopg\n"
        "from landgis.monitor.store import _conninfo\n"
        "info, schema = _conninfo(sys.argv[1])\n"
        "con = psycopg.connect(info)\n"
        "con.execute(f'SET search_path TO {schema}, public')\n"
        "con.execute(\"UPDATE cases SET status = '已销号', notes = 'half'\")\n"
        "con.execute('DELETE FROM case_findings')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", script, url], check=False, env=env)
    assert done.returncode != 0
    pd.testing.assert_frame_equal(ledger.cases(geometry=False), before)
    ledger.update(findings(2), date="2024-09-15")
    _check_consistent(ledger)

"""Hostile text through every output: no broken file, no traceback, no silent change.

The second corpus (issue 19, outputs): the sample park with one value changed the
way a careless or hostile data supplier would, run through the command a user
types (``landgis audit … --xlsx --map --report --fieldkit``) and every other
command.  Each output must parse with its own format's parser; a character a
format cannot hold is written as U+FFFD and counted in a warning and in
``summary.json``; file names fit; documented names never move; the terminal
gets text, never escapes or markup; a damaged or read-only ledger gives a clear
message; ``landgis convert`` keeps ids and names and round-trips.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from shapely.geometry import Polygon

import landgis
from landgis.cli import main
from landgis.io.text_out import UNHOLDABLE, counting
from landgis.monitor import Ledger, progress_report
from tests.conftest import X0, Y0, footprints_frame, parcels_frame, rect

SAMPLE = landgis.datasets.sample_dir()
STREET = "城东街道"  # the sample street that is poisoned
HOLDER = "泰州绿源食品有限公司"  # the sample holder that is poisoned (租出, over-use, arrears)
FULL = ("--xlsx", "--map", "--report", "--fieldkit")


# ------------------------------------------------------------------ helpers


def toml_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (every non-ASCII escaped)."""
    out = []
    for char in text:
        if " " <= char < "\x7f" and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08X}")
    return '"' + "".join(out) + '"'


def park(tmp_path, *, street=None, holder=None, group=None, name=None) -> Path:
    """The sample park copied to ``tmp_path/park`` with one value changed."""
    folder = tmp_path / "park"
    folder.mkdir()
    for path in SAMPLE.iterdir():
        if path.is_file() and path.suffix in (".gpkg", ".xlsx", ".toml"):
            shutil.copy(path, folder / path.name)
    parcels = gpd.read_file(folder / "parcels.gpkg")
    footprints = gpd.read_file(folder / "footprints.gpkg")
    if street is not None:
        parcels.loc[parcels["街道"] == STREET, "街道"] = street
    if holder is not None:
        parcels.loc[parcels["权利人"] == HOLDER, "权利人"] = holder
        footprints.loc[footprints["使用人"] == HOLDER, "使用人"] = holder
    if name is not None:
        parcels["地块名称"] = name
    parcels.to_file(folder / "parcels.gpkg")
    footprints.to_file(folder / "footprints.gpkg")
    if group is not None:
        with (folder / "campaign.toml").open("a", encoding="utf-8") as fh:
            fh.write(f"\n[routing]\nagricultural_park_group = {toml_string(group)}\n")
    return folder


def invoke(*args, ok=(0,)):
    """Run a landgis command in-process: no traceback, no escape sequence, exit code in ``ok``."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output, result.output  # rich gets no terminal here: all data
    assert result.exit_code in ok, result.output
    return result


def audit(folder: Path, *extra, ok=(0,)):
    return invoke(
        "audit",
        folder / "parcels.gpkg",
        folder / "footprints.gpkg",
        "--planning",
        folder / "planning.gpkg",
        "--registers",
        folder / "registers.xlsx",
        "--config",
        folder / "campaign.toml",
        *extra,
        "-o",
        folder / "out",
        "-q",
        ok=ok,
    )


def trail(folder: Path) -> dict:
    return json.loads((folder / "out" / "summary.json").read_text(encoding="utf-8"))


def assert_outputs_parse(out: Path) -> int:
    """Every file under ``out`` parses with its format's parser, and no text file holds a
    character its format cannot (the GeoPackage is the data of record and may)."""
    checked = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        assert len(path.name.encode()) <= 255, path.name
        if suffix == ".kmz":
            with zipfile.ZipFile(path) as kmz:
                data = kmz.read("doc.kml")
            etree.fromstring(data)
            assert not UNHOLDABLE.search(data.decode("utf-8")), path
        elif suffix == ".xlsx":
            from openpyxl import load_workbook

            for sheet in load_workbook(path):
                for row in sheet.iter_rows(values_only=True):
                    assert not any(isinstance(v, str) and UNHOLDABLE.search(v) for v in row)
            with zipfile.ZipFile(path) as book:
                for member in book.namelist():
                    if member.endswith((".xml", ".rels")):
                        etree.fromstring(book.read(member))
        elif suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                cells = [c for row in csv.reader(fh) for c in row]
            assert not any(UNHOLDABLE.search(c) for c in cells), path
            assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], path
        elif suffix == ".gpkg":
            import pyogrio

            with sqlite3.connect(path) as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                if db.execute("SELECT 1 FROM sqlite_master WHERE name='layer_styles'").fetchone():
                    for (qml,) in db.execute("SELECT styleQML FROM layer_styles"):
                        etree.fromstring(qml.split("\n", 1)[1].encode())
            for layer, _ in pyogrio.list_layers(path):
                pyogrio.read_dataframe(path, layer=layer)
        elif suffix == ".shp":
            import pyogrio

            pyogrio.read_dataframe(path)
        elif suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".html":
            text = path.read_text(encoding="utf-8")
            HTMLParser().feed(text)
            assert not UNHOLDABLE.search(text), path
        elif suffix == ".txt":
            landgis.read_boundary_txt(path)
        else:
            continue
        checked += 1
    return checked


def kmz_text(path: Path) -> str:
    with zipfile.ZipFile(path) as kmz:
        return kmz.read("doc.kml").decode("utf-8")


# ------------------------------------------------------------------ 1. long names


def test_a_name_of_75_astral_characters_fits_every_file_name(tmp_path):
    """75 CJK Extension-B characters are 300 bytes: cut by bytes, with room for the
    temporary name of the atomic write (which failed with [Errno 36] before)."""
    name = "\U00020000" * 75
    folder = park(tmp_path, street=name, holder=name)
    result = audit(folder, *FULL)
    out = folder / "out"
    assert assert_outputs_parse(out) > 20
    cut = "\U00020000" * 45  # 180 bytes
    assert (out / "maps" / f"{cut}.html").is_file()
    assert (out / "fieldkit" / f"{cut}.kmz").is_file()
    assert (out / "dossiers" / f"{cut}.xlsx").is_file()
    assert "cut to 180 bytes" in result.output
    assert not list(out.rglob(".*.tmp*"))
    findings = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert name in set(findings["street"]) and name in set(findings["holder"])  # data intact


# ------------------------------------------------------------------ 2. control characters


@pytest.mark.parametrize(
    ("street", "points"),
    [("城\x01东\x0b街\x1b道", {"U+0001", "U+000B", "U+001B"}), ("城东\ufffe街道", {"U+FFFE"})],
    ids=["C0-controls", "non-character"],
)
def test_control_and_non_characters_in_a_street_leave_every_output_parseable(
    tmp_path, street, points
):
    folder = park(tmp_path, street=street)
    result = audit(folder, *FULL)
    out = folder / "out"
    assert assert_outputs_parse(out) > 20
    shown = "".join("\ufffd" if UNHOLDABLE.match(c) else c for c in street)
    kmz = next((out / "fieldkit").glob("城*.kmz"))
    assert shown in kmz_text(kmz)
    from openpyxl import load_workbook

    values = {
        c
        for r in load_workbook(out / "findings.xlsx").active.iter_rows(values_only=True)
        for c in r
    }
    assert shown in values
    replaced = trail(folder)["replaced_characters"]
    assert set(replaced["code_points"]) == points
    assert {"KML", "xlsx", "CSV", "HTML"} <= set(replaced["outputs"])
    assert "were written as '\ufffd' (U+FFFD)" in result.output
    assert any("U+FFFD" in w for w in trail(folder)["warnings"])
    findings = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert street in set(findings["street"])  # the GeoPackage keeps the text as read


def test_a_working_group_named_with_control_characters_in_the_campaign(tmp_path):
    group = "\x01农业\x1b[1m组\ufffe"
    folder = park(tmp_path, group=group)
    result = audit(folder, "--report", "--xlsx")
    out = folder / "out"
    assert assert_outputs_parse(out) > 5
    from openpyxl import load_workbook

    sheets = load_workbook(out / "report.xlsx").sheetnames
    assert "\ufffd农业\ufffd_1m组\ufffd" in sheets  # [ and ] are not allowed in sheet names
    assert "U+001B" in result.output


# ------------------------------------------------------------------ 3. the terminal


def test_escape_sequences_and_markup_reach_the_terminal_as_text(tmp_path):
    street = "\x1b[31m红\x1b[0m[bold]街[/bold]\x1b]0;title\x07\u202e道"
    folder = park(tmp_path, street=street)
    audit(folder)
    ledger = folder / "cases.sqlite"
    invoke("ledger", "update", folder / "out", "--ledger", ledger, "--round", "R1")
    shown = invoke("ledger", "show", "--ledger", ledger).output
    assert "[bold]街[/bold]" in shown  # markup is text
    assert "\ufffd[31m红\ufffd[0m" in shown and "\u202e" not in shown and "\x07" not in shown
    case = Ledger(ledger).cases(street=street).iloc[0].case_id
    invoke("ledger", "set", case, "--note", "\x1b[2J[red]清屏[/red]", "--ledger", ledger)
    detail = invoke("ledger", "show", "--case", case, "--ledger", ledger).output
    assert "[red]清屏[/red]" in detail and "\x1b" not in detail


# ------------------------------------------------------------------ 5. documented names


def test_a_street_named_like_a_department_takes_the_suffix(tmp_path):
    folder = park(tmp_path, street="城管局")
    result = audit(folder, "--map")
    maps = folder / "out" / "maps"
    assert (maps / "城管局.html").is_file() and (maps / "城管局-2.html").is_file()
    # Street maps have a PNG overview, department maps none: the documented
    # maps/城管局.html is still the department's.
    assert (maps / "城管局-2.png").is_file() and not (maps / "城管局.png").exists()
    department = (maps / "城管局.html").read_text(encoding="utf-8")
    street = (maps / "城管局-2.html").read_text(encoding="utf-8")
    assert "租而无用" in street and "租而无用" not in department  # not a 城管局 category
    assert "'城管局' → 城管局-2 (城管局 was taken)" in result.output


# ------------------------------------------------------------------ 12. convert


def test_convert_to_txt_keeps_ids_and_names_and_round_trips(tmp_path):
    target = tmp_path / "parcels.txt"
    invoke("convert", SAMPLE / "parcels.gpkg", target)
    back = landgis.read_boundary_txt(target)
    source = gpd.read_file(SAMPLE / "parcels.gpkg")
    assert back["parcel_id"].tolist() == source["宗地代码"].tolist()
    assert back["parcel_name"].tolist() == source["地块名称"].tolist()
    gap = shapely.hausdorff_distance(back.geometry.values, source.geometry.values)
    assert (gap <= 0.0005).all()


def test_convert_refuses_what_the_txt_cannot_hold_naming_the_parcel(tmp_path):
    close = Polygon([(X0, Y0), (X0 + 1, Y0), (X0 + 0.0004, Y0 + 0.0004)])  # 0.4 mm apart
    frame = gpd.GeoDataFrame({"宗地代码": ["P7"]}, geometry=[close], crs="EPSG:4528")
    frame.to_file(tmp_path / "close.gpkg")
    refused = invoke("convert", tmp_path / "close.gpkg", tmp_path / "close.txt", ok=(2,))
    assert "parcel P7 (row 1)" in refused.output and "--precision 4" in refused.output
    assert not (tmp_path / "close.txt").exists()
    invoke("convert", tmp_path / "close.gpkg", tmp_path / "close.txt", "--precision", "4")
    back = landgis.read_boundary_txt(tmp_path / "close.txt")
    assert back.loc[1, "parcel_id"] == "P7"
    assert shapely.equals_exact(back.geometry.iloc[0], close, tolerance=1e-9)

    nan = Polygon([(X0, Y0), (X0 + 100, Y0), (float("nan"), Y0 + 50), (X0, Y0 + 100)])
    frame = gpd.GeoDataFrame({"宗地代码": ["N1"]}, geometry=[nan], crs="EPSG:4528")
    frame.to_file(tmp_path / "nan.gpkg")
    refused = invoke("convert", tmp_path / "nan.gpkg", tmp_path / "nan.txt", ok=(2,))
    assert "parcels N1 (row 1)" in refused.output and "NaN" in refused.output
    assert not (tmp_path / "nan.txt").exists()


# ------------------------------------------------------------------ 13, 14. the ledger


@pytest.fixture(scope="module")
def ledger_round(tmp_path_factory):
    """An audit of the sample park and a ledger with its first round."""
    folder = tmp_path_factory.mktemp("ledger")
    invoke("audit", SAMPLE / "parcels.gpkg", SAMPLE / "footprints.gpkg", "-o", folder / "out", "-q")
    invoke("ledger", "update", folder / "out", "--ledger", folder / "cases.sqlite", "-q")
    return folder


def ledger_commands(ledger: Path, folder: Path, out: Path):
    case = Ledger(folder / "cases.sqlite", read_only=True).cases().case_id.iloc[0]
    reads = [
        ["ledger", "show", "--ledger", ledger],
        ["ledger", "export", out / "cases.xlsx", "--ledger", ledger],
        ["progress", "--ledger", ledger, "-o", out / "progress"],
    ]
    writes = [
        ["ledger", "set", case, "--status", "整改中", "--ledger", ledger],
        ["ledger", "update", folder / "out", "--round", "R2", "--ledger", ledger],
    ]
    return reads, writes


def test_a_ledger_with_damaged_pages_is_refused_by_every_command(ledger_round, tmp_path):
    damaged = tmp_path / "damaged.sqlite"
    data = bytearray((ledger_round / "cases.sqlite").read_bytes())
    page = 4096
    for start in range(2 * page, len(data), page):  # every page but the header's
        data[start + 8 : start + page - 8] = bytes(range(256)) * ((page - 16) // 256)
    damaged.write_bytes(bytes(data))
    reads, writes = ledger_commands(damaged, ledger_round, tmp_path)
    for command in reads + writes:
        result = invoke(*command, ok=(2,))
        assert f"{damaged}: the ledger file is damaged" in result.output, command
        assert ".recover" in result.output
    assert not (tmp_path / "cases.xlsx").exists()


def _read_only(folder: Path):
    """Run a command with ``folder`` read-only: a read-only bind mount for root (who
    writes through permissions), permissions for anyone else."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        for path in folder.iterdir():
            path.chmod(0o444)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare to make a read-only mount as root")
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}'"],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.decode()}")
    return [
        "unshare",
        "-m",
        "sh",
        "-c",
        f"mount --bind -o ro '{folder}' '{folder}' && exec \"$0\" \"$@\"",
    ]


def test_a_ledger_on_a_read_only_medium_reads_and_refuses_writes(ledger_round, tmp_path):
    medium = tmp_path / "medium"
    medium.mkdir()
    ledger = medium / "cases.sqlite"
    shutil.copy(ledger_round / "cases.sqlite", ledger)
    before = ledger.read_bytes()
    prefix = _read_only(medium)
    reads, writes = ledger_commands(ledger, ledger_round, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        for command, code in [(c, 0) for c in reads] + [(c, 2) for c in writes]:
            done = subprocess.run(
                [*prefix, sys.executable, "-m", "landgis.cli", *map(str, command)],
                capture_output=True,
                text=True,
                env=env,
            )
            assert "Traceback" not in done.stderr, done.stderr
            assert done.returncode == code, (command, done.stdout, done.stderr)
            if code:
                assert f"{ledger}: is read-only" in done.stderr, done.stderr
                assert "nothing was changed" in done.stderr
    finally:
        medium.chmod(0o755)
        ledger.chmod(0o644)
    assert (tmp_path / "cases.xlsx").is_file() and (
        tmp_path / "progress" / "progress.xlsx"
    ).is_file()
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in medium.iterdir()) == ["cases.sqlite"]


# ------------------------------------------------------------------ every command


def first_case(ledger: Path) -> str:
    return Ledger(ledger, read_only=True).cases().case_id.iloc[0]


def _poisoned_return(sheets: Path, ledger: Path):
    """A street returns its sheet with poison in every column it may fill in."""
    from openpyxl import load_workbook

    from landgis.io.text_out import clean_text

    path = sorted(sheets.glob("*.xlsx"))[0]
    wb = load_workbook(path)
    poison = clean_text(POISON, where="test")  # what a workbook can hold: ESC, [bold] …
    ws = wb["核查反馈表"]
    header = [c.value for c in ws[3]]
    for name, value in (("处置说明", poison), ("责任人", ASTRAL), ("处置状态", "整改中")):
        ws.cell(4, header.index(name) + 1).value = value
    ws.cell(5, header.index("处置状态") + 1).value = poison  # not a status: reported
    wb.save(path)
    result = invoke("ledger", "import", path, "--ledger", ledger, ok=(2,))
    assert "已导入 1 行" in " ".join(result.output.split())
    return result


POISON = "\x1b[31m城\x01东\x0b街\x1b道\ufffe[bold]"
ASTRAL = "\U00020000" * 75


def test_every_command_on_a_poisoned_sample_ends_without_a_traceback(tmp_path):
    folder = park(tmp_path, street=POISON, holder=ASTRAL, name="=cmd|' /C calc'!A0\x00名")
    out = folder / "out"
    grown = gpd.read_file(folder / "footprints.gpkg")
    grown["geometry"] = grown.geometry.buffer(5, join_style="mitre")
    grown.to_file(folder / "footprints2.gpkg")
    ledger = folder / "cases.sqlite"
    covered: set[str] = set()
    runs = [
        ("audit", lambda: audit(folder, *FULL, "--format", "gdb", "--format", "shp")),
        ("map", lambda: invoke("map", out, "--no-png")),
        ("report", lambda: invoke("report", out)),
        ("fieldkit", lambda: invoke("fieldkit", out, "--gcj02")),
        (
            "change",
            lambda: invoke(
                "change",
                folder / "footprints.gpkg",
                folder / "footprints2.gpkg",
                "--parcels",
                folder / "parcels.gpkg",
                "-o",
                folder / "change",
            ),
        ),
        ("diff", lambda: invoke("diff", out, out, "-o", folder / "diff", "--basemap", "none")),
        ("ledger update", lambda: invoke("ledger", "update", out, "--ledger", ledger)),
        (
            "ledger set",
            lambda: invoke(
                "ledger",
                "set",
                first_case(ledger),
                "--note",
                POISON,
                "--person",
                ASTRAL,
                "--ledger",
                ledger,
            ),
        ),
        ("ledger show", lambda: invoke("ledger", "show", "--ledger", ledger, "--street", POISON)),
        (
            "ledger export",
            lambda: invoke("ledger", "export", folder / "l.xlsx", "--ledger", ledger),
        ),
        ("progress", lambda: invoke("progress", "--ledger", ledger, "-o", folder / "progress")),
        ("convert", lambda: invoke("convert", folder / "parcels.gpkg", folder / "p.txt")),
        (
            "ledger sheets",
            lambda: invoke("ledger", "sheets", "--ledger", ledger, "-o", folder / "sheets"),
        ),
        ("ledger import", lambda: _poisoned_return(folder / "sheets", ledger)),
    ]
    for name, run in runs:
        run()
        covered.add(name)
    invoke("ledger", "show", "--case", first_case(ledger), "--ledger", ledger)
    invoke("ledger", "export", folder / "l.csv", "--ledger", ledger)
    invoke("ledger", "export", folder / "l.gpkg", "--ledger", ledger)
    invoke("convert", folder / "parcels.gpkg", folder / "p.geojson")
    ledger_commands_all = {f"ledger {c}" for c in main.commands["ledger"].commands}
    # demo reads only the bundled park: nothing to poison (tests/test_cli.py runs it)
    assert covered >= (set(main.commands) - {"ledger", "demo"}) | ledger_commands_all
    import pyogrio

    for layer, _ in pyogrio.list_layers(out / "findings.gdb"):
        pyogrio.read_dataframe(out / "findings.gdb", layer=layer)
    for checked in (out, folder / "change", folder / "diff", folder / "progress"):
        assert assert_outputs_parse(checked) >= 2, checked


# ------------------------------------------------------------------ property


_SPECIALS = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x0b",
        "\x1b[31m",
        "\x7f",
        "\x85",
        "\ufffe",
        "\uffff",
        "\U0001fffe",
        "\ufdd0",
        "\U00020000",
        "\U0010fffd",
        "\u202e",
        "\r\n",
        "\t",
        "=1+1",
        "<b>&",
        "]]>",
        "'\"",
    ]
)
TEXT = st.lists(
    st.one_of(st.text(st.characters(exclude_categories=("Cs",)), max_size=6), _SPECIALS),
    min_size=1,
    max_size=4,
).map("".join)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(holder=TEXT, street=TEXT, village=TEXT, name=TEXT, group=TEXT)
def test_random_unicode_in_every_text_column_leaves_every_output_parseable(
    tmp_path_factory, holder, street, village, name, group
):
    """Holder, street, village, parcel name and working group drawn from all of
    Unicode (astral, control and non-characters; no lone surrogates, which a UTF-8
    file cannot hold): every file written parses, with its own format's parser."""
    out = tmp_path_factory.mktemp("prop")
    holder = "甲" + holder  # an authorized parcel needs a holder: never blank
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", holder, rect(0, 0, 100, 100)),
            ("L1", "leased_in", "村", rect(100, 0, 200, 100)),
        ]
    )
    parcels["street"], parcels["village"], parcels["parcel_name"] = street, village, name
    footprints = footprints_frame([("F1", holder, rect(10, 10, 130, 90))])
    planning = gpd.GeoDataFrame(
        {"zone": ["现代农业园"]}, geometry=[rect(100, 0, 200, 100)], crs=parcels.crs
    )
    result = landgis.audit(
        parcels,
        footprints,
        planning=planning,
        config={"campaign": {"name": name}, "routing": {"agricultural_park_group": group}},
    )
    with counting():  # as the CLI: counted, not warned
        result.write(out, xlsx=True)
        result.write_report(out)
        result.write_fieldkit(out / "fieldkit")
        result.write_maps(out, png=False, basemap="none")
        book = Ledger(out / "cases.sqlite")
        book.update(out, round="R1")
        book.export(out / "ledger.xlsx")
        book.export(out / "ledger.csv")
        progress_report(book).write(out / "progress")
    assert assert_outputs_parse(out) >= 12

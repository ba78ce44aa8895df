"""``landgis.audit``: an audit as a pipeline of small stages.

1. **Read** the layers (parcels, footprints, planning, admin) and choose the
   analysis CRS from the parcels; align every layer on it.  The footprints come
   from one source whatever the input: a vector layer, a file read tile by tile,
   or a classified raster.
2. **Engine**: the rules as set algebra (:func:`landgis.engine.run`, or
   :func:`landgis.scale.run_partitioned` tile by tile).
3. **Raster idle**: with footprints from a raster, idle parcels the raster shows
   built up are not idle.
4. **Registers**: rent and fee arrears, rent of over-use, the per-mu evaluation.
5. **Land classes**: with the land survey, every finding gets the class of its
   land, and the use outside every red line that is a village's homestead or
   stands on 耕地 becomes its own category (:func:`landgis.survey.apply_land_classes`).
6. **Findings**: routing, places, deadlines, ids (:func:`landgis.findings.build_findings`).
7. **Trail**: what was read, repaired and assumed (``summary.json``).

It returns an :class:`~landgis.result.Audit`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landgis._version import __version__
from landgis.accounts import apply_registers, survey_date
from landgis.config import Campaign, load_campaign
from landgis.crs import analysis_crs, ellipsoidal_area
from landgis.engine import run
from landgis.engine.idle import drop_built_up_idle
from landgis.errors import ConfigError, CRSError
from landgis.findings import build_findings
from landgis.io.land_survey import land_survey_footprints, read_dltb
from landgis.io.raster import RASTER_SUFFIXES, coverage, is_raster
from landgis.io.registers import read_registers
from landgis.io.report import REPAIRS, ReadReport, report_of
from landgis.io.stream import STREAMED_SUFFIXES, open_footprints
from landgis.io.vector import (
    Source,
    check_registered_unit,
    read_admin,
    read_footprints,
    read_parcels,
    read_planning,
)
from landgis.result import Audit
from landgis.rules import codes
from landgis.schema import load_aliases
from landgis.survey import apply_land_classes

__all__ = ["RASTER_SUFFIXES", "UNKNOWN_USER", "audit"]

#: The user of raster footprints that no authorized parcel claims.
UNKNOWN_USER = "未知使用人"


def audit(
    parcels: Source,
    footprints: Source,
    *,
    planning: Source | None = None,
    admin: Source | None = None,
    crs: Any = None,
    source_crs: Any = None,
    parcels_layer: str | int | None = None,
    footprints_layer: str | int | None = None,
    planning_layer: str | int | None = None,
    admin_layer: str | int | None = None,
    min_area: float | None = None,
    idle_ratio: float | None = None,
    grid_size: float | None = None,
    config: Campaign | Mapping[str, Any] | str | Path | None = None,
    aliases: Mapping[str, Any] | str | Path | None = None,
    encoding: str | None = None,
    strict: bool = True,
    registers: Mapping[str, Any] | Sequence[Any] | str | Path | None = None,
    threads: int | None = None,
    raster: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    engine: str = "local",
    client: Any = None,
    tile_size: float | None = None,
    halo: float | None = None,
    memory_budget: float | None = None,
    on_partition: Callable[[Any], None] | None = None,
    land_survey: bool = False,
    land_classes: Source | None = None,
    land_classes_layer: str | int | None = None,
    ellipsoidal_areas: bool = False,
) -> Audit:
    """Audit red lines against actual use and return the findings.

    Parameters
    ----------
    parcels
        Red lines: a path (GeoPackage, Shapefile, GeoJSON …) or a GeoDataFrame;
        see :func:`landgis.read_parcels`.
    footprints
        Actual use, likewise; see :func:`landgis.read_footprints`.  Or a
        classified raster (``.tif``, ``.tiff``, ``.img``, ``.vrt``, ``.jp2``):
        its pixels of ``raster["classes"]`` become footprints, see ``raster``.
    planning
        Optional planning zones (column ``zone``): leased-in land inside one
        is *idle*, not *unused*; zones named in the campaign's
        ``agricultural_park_zones`` route their findings to the agricultural
        park group.
    admin
        Optional street/village areas; they give each finding its street and
        village (otherwise taken from its parcel).
    crs
        Analysis CRS (projected, metres).  Default: the parcels' CRS when it is
        a metric projection that keeps areas (not Web Mercator), else the
        CGCS2000 3° Gauss-Krüger zone of the data.
    source_crs
        The CRS the input coordinates are really in, for files that have none
        or a wrong one; layers without a CRS are otherwise taken to be in ``crs``.
    parcels_layer, footprints_layer, planning_layer, admin_layer
        Layer names (or indexes) in multi-layer files (GeoPackage, File
        Geodatabase).
    min_area
        Smallest finding kept, m² (default from the campaign, 1 m²); ``0``
        keeps every sliver.
    idle_ratio
        Use share below which a parcel is idle (default 0.1).
    grid_size
        Snap-rounding grid of the set algebra, m (default 1e-6).
    config
        Campaign configuration: a :class:`~landgis.Campaign`, a dict or a TOML
        file; the options above override it.
    aliases
        Extra column and tenure aliases (dict or TOML/YAML file).
    encoding
        Attribute encoding of the input files (e.g. ``"gbk"``).
    strict
        Boundary-point TXT red lines that announce more points than they list, or
        whose header area their points do not bear out, stop the audit (default);
        with ``strict=False`` those parcels are skipped with a warning.
    registers
        Lease, payment, fee and enterprise registers (.xlsx/.csv): a mapping
        ``{"leases": path, …}`` or a list of files whose kind (and each sheet's)
        is recognised from its header.  They add ``rent_arrears``,
        ``fee_arrears``, ``low_efficiency``, the rent owed for over-use of
        leased land and the rent paid for leased-in land; rows that cannot be
        used are listed in :attr:`Audit.problems` and the rest still count.
    threads
        Threads for the geometry work (default: every core); results do not
        depend on it.
    raster
        Options of :func:`landgis.footprints_from_raster` when ``footprints``
        is a raster: ``classes`` (required: the pixel values that are actual
        use), ``mask_from``, ``sieve``, ``connectivity``, ``min_area``,
        ``min_share`` and ``unknown_user`` (default ``"未知使用人"``: footprints
        not mostly inside one authorized parcel are audited as one anonymous
        occupant).  Each footprint's user is the holder of the authorized
        parcel holding most of it.  Because that is a guess, a parcel is idle
        only when both its holder's use and its built-up share measured on the
        raster (:func:`landgis.io.raster.coverage`, edge pixels weighted exactly)
        are below ``idle_ratio``.
    progress
        Called with the name of each stage.
    engine, client, tile_size, halo, memory_budget, on_partition
        Partitioned audit (see :mod:`landgis.scale`): ``engine="dask"``
        runs tiles as tasks on ``client`` (a ``distributed.Client``, a scheduler
        address, or ``None`` for a local cluster); ``tile_size``/``halo`` (m)
        cut the zone into tiles; ``memory_budget`` (GB) streams the footprints
        from a GeoParquet or GeoPackage tile by tile.  Any of them partitions
        the audit; the findings are the same as without.  ``on_partition`` is
        called after each tile (e.g. ``landgis.scale.TqdmProgress()``).
    land_survey
        ``footprints`` is the national land survey's 地类图斑 layer (``DLTB`` of
        a 三调 / 国土变更调查 File Geodatabase, GeoPackage or Shapefile; name the
        layer with ``footprints_layer="DLTB"`` when the file holds several):
        the 图斑 whose class the campaign counts as use (``[land_survey]``,
        default 建设用地 but 1201 空闲地, and 1202 设施农用地) become the
        footprints, each used by a user the layer names, else by the holder of
        the authorized parcel holding most of it, else by the anonymous
        ``未知使用人`` (:func:`landgis.read_land_survey`; ``user_source`` in
        :attr:`Audit.footprints`).  Only the 图斑 touching the bounding box of
        the parcels (and planning and admin areas) are read.  Implies
        ``land_classes`` = the same layer.
    land_classes, land_classes_layer
        A land-survey layer whose classes annotate the findings: each finding
        gets ``land_class`` (the class covering most of its land, e.g. ``0103
        旱地`` for an idle requisitioned parcel still farmed), and use outside
        every red line on 耕地 becomes ``farmland_construction``, on a village's
        homestead land (0702, or 城镇村属性码 203) ``village_homestead`` — the
        village's, not the zone's over-use.
    ellipsoidal_areas
        Also give each finding ``area_ellipsoid_m2``, its area on the
        ellipsoid as the land survey computes ``TBMJ``
        (:func:`landgis.ellipsoidal_area`), to reconcile with the survey's
        statistics; every other figure stays the plane area of ``crs``.

    Returns
    -------
    Audit

    Examples
    --------
    >>> import landgis
    >>> a = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"),
    ...                   planning=landgis.get_path("planning"))
    >>> "encroachment" in set(a.findings["category"])
    True
    """
    say = progress or (lambda stage: None)
    started = time.perf_counter()
    campaign = load_campaign(config).with_options(
        min_area=min_area, idle_ratio=idle_ratio, grid_size=grid_size
    )
    user_aliases = load_aliases(aliases)
    partitioned = engine != "local" or tile_size is not None or memory_budget is not None

    say("reading layers")
    inputs = _read_inputs(
        parcels,
        footprints,
        planning=planning,
        admin=admin,
        layer_names=(parcels_layer, footprints_layer, planning_layer, admin_layer),
        crs=crs,
        source_crs=source_crs,
        aliases=user_aliases,
        encoding=encoding,
        strict=strict,
        raster=raster,
        streamed=partitioned and not land_survey and _streamable(footprints, engine, memory_budget),
        land_survey=campaign.land_survey if land_survey else None,
        land_classes=(land_classes, land_classes_layer),
    )
    read_done = time.perf_counter()

    stats: dict = {}
    if partitioned:
        from landgis.scale import run_partitioned

        result = run_partitioned(
            inputs.layers["parcels"],
            inputs.source if inputs.source is not None else inputs.layers["footprints"],
            inputs.layers.get("planning"),
            engine=engine,
            client=client,
            tile_size=tile_size,
            halo=halo,
            memory_budget=memory_budget,
            tolerances=campaign.tolerances,
            threads=threads,
            progress=say,
            on_partition=on_partition,
            stats=stats,
        )
        if inputs.source is not None:  # what the tiles' readers repaired and warned about
            streamed = report_of(inputs.layers["footprints"])
            for key, n in stats["repairs"].items():
                streamed.count(key, n)
            for message in stats["warnings"]:
                streamed.warn(message, stacklevel=2)
    else:
        result = run(
            inputs.layers["parcels"],
            inputs.layers["footprints"],
            inputs.layers.get("planning"),
            tolerances=campaign.tolerances,
            threads=threads,
            progress=say,
        )
    raw = result.raw
    if inputs.raster is not None:
        raw = _built_up_is_not_idle(raw, inputs, raster or {}, campaign.idle_ratio)
    books = _Books(raw)
    if registers is not None:
        say("reading registers")
        books = _apply_registers(
            raw, registers, inputs, result, campaign, stats, aliases=user_aliases, encoding=encoding
        )

    if inputs.classes is not None:
        say("land classes")
        raw = books.raw
        books.raw = apply_land_classes(
            raw,
            inputs.classes,
            outside=(raw["category"] == "outside_redline").to_numpy(),
            settings=campaign.land_survey,
            grid_size=campaign.grid_size,
        )

    say("building findings")
    found = (
        campaign.round_date
        or survey_date(inputs.layers["footprints"])
        or (pd.Timestamp(stats["survey_date"]).date() if stats.get("survey_date") else None)
        or campaign.as_of
    )
    findings = build_findings(
        books.raw,
        parcels=inputs.layers["parcels"],
        campaign=campaign,
        planning=inputs.layers.get("planning"),
        admin=inputs.layers.get("admin"),
        found=found,
    )
    if ellipsoidal_areas:
        findings["area_ellipsoid_m2"] = ellipsoidal_area(findings) if len(findings) else 0.0
    done = time.perf_counter()

    report = _trail(
        inputs,
        sources={"parcels": parcels, "footprints": footprints, "planning": planning,
                 "admin": admin},
        campaign=campaign,
        timings={"read_s": read_done - started, "audit_s": done - read_done},
    )  # fmt: skip
    if inputs.classes is not None:
        read = report_of(inputs.classes)
        report["land_classes"] = {"source": read.source, **read.facts.get("land_survey", {})}
        if not land_survey:
            report["warnings"] += [w for w in read.warnings if w not in report["warnings"]]
    if books.tables is not None:
        report["registers"] = _register_trail(books.tables)
    report["found"] = found.isoformat() if found else None
    if inputs.source is not None:
        report["inputs"]["footprints"]["rows"] = stats["footprints"]
        report["inputs"]["footprints"]["streamed"] = True
    if partitioned:
        report["partitions"] = {
            "engine": engine,
            **{k: stats[k] for k in ("tiles", "tile_size", "halo", "retries")},
            "resolved_after_merge": stats["resolved_after_merge"],
            "footprints_loaded": stats["footprints_loaded"],
        }
    return Audit(
        findings=findings,
        holders=result.holders,
        parcel_use=result.parcels,
        parcels=inputs.layers["parcels"],
        footprints=inputs.layers["footprints"],
        planning=inputs.layers.get("planning"),
        admin=inputs.layers.get("admin"),
        campaign=campaign,
        report=report,
        evaluation=books.evaluation,
        problems=books.problems,
        instalments=books.instalments,
    )


# ------------------------------------------------------------ stage 1: the layers


@dataclass
class _Inputs:
    """The layers as read, validated and aligned on the analysis CRS."""

    layers: dict[str, gpd.GeoDataFrame]
    crs: Any
    reprojected: dict[str, str] = field(default_factory=dict)
    source: Any = None  # footprints read tile by tile (landgis.io.stream)
    raster: Any = None  # the classified raster the footprints came from
    classes: gpd.GeoDataFrame | None = None  # the land survey's 图斑, every class


def _read_inputs(
    parcels,
    footprints,
    *,
    planning,
    admin,
    layer_names,
    crs,
    source_crs,
    aliases,
    encoding,
    strict,
    raster,
    streamed: bool,
    land_survey=None,
    land_classes=(None, None),
) -> _Inputs:
    """Read every layer, choose the analysis CRS (from the parcels) and align on it.

    The footprints come from one of four sources: a vector layer read whole, a
    file read tile by tile later (``streamed``), a classified raster, or the land
    survey's 地类图斑 (``land_survey``: its settings).
    """
    parcels_layer, footprints_layer, planning_layer, admin_layer = layer_names
    common = {"crs": crs, "source_crs": source_crs, "aliases": aliases, "encoding": encoding}
    parcel_frame = read_parcels(parcels, layer=parcels_layer, strict=strict, **common)
    target = analysis_crs(parcel_frame.crs, parcel_frame.total_bounds, crs=crs)
    inputs = _Inputs(layers={"parcels": parcel_frame}, crs=target)
    if land_survey is not None and is_raster(footprints):
        raise ConfigError(
            f"land_survey=True, but the footprints ({footprints!r}) are a raster; give the "
            "land survey's 地类图斑 layer (DLTB)."
        )
    if land_survey is not None or land_classes[0] is not None:
        others = {}
        for name, source, layer in (("planning", planning, planning_layer),
                                    ("admin", admin, admin_layer)):  # fmt: skip
            if source is not None:
                reader = read_planning if name == "planning" else read_admin
                others[name] = reader(source, layer=layer, **common)
        area = _area_of_interest(parcel_frame, others.values(), target)
        if land_survey is not None:
            source, layer = footprints, footprints_layer
        else:
            source, layer = land_classes
        inputs.classes = read_dltb(
            source, layer=layer, crs=target, source_crs=source_crs, aliases=aliases,
            encoding=encoding, mask=area,
        )  # fmt: skip
        inputs.layers.update(others)
        planning = admin = None  # read already
    if land_survey is not None:
        inputs.layers["footprints"] = land_survey_footprints(
            inputs.classes, parcels=parcel_frame, settings=land_survey
        )
    elif is_raster(footprints):
        inputs.raster = footprints
        inputs.layers["footprints"] = _raster_footprints(
            footprints, raster, parcels=parcel_frame, crs=target, source_crs=source_crs
        )
    elif raster is not None:
        raise ConfigError(
            f"raster= options given, but the footprints ({footprints!r}) are not a raster "
            f"({', '.join(RASTER_SUFFIXES)})."
        )
    elif streamed:
        # Read tile by tile (by the workers, on Dask); no frame holds them whole, so
        # Audit.footprints stays empty and the report says so.
        inputs.source = open_footprints(
            footprints, crs=target, layer=footprints_layer, source_crs=source_crs,
            aliases=aliases,
        )  # fmt: skip
        empty = gpd.GeoDataFrame({"footprint_id": [], "user": []}, geometry=[], crs=target)
        empty.attrs["landgis"] = ReadReport(source=str(footprints), facts={"streamed": True})
        inputs.layers["footprints"] = empty
    else:
        inputs.layers["footprints"] = read_footprints(
            footprints, layer=footprints_layer, **common
        )
    if planning is not None:
        inputs.layers["planning"] = read_planning(planning, layer=planning_layer, **common)
    if admin is not None:
        inputs.layers["admin"] = read_admin(admin, layer=admin_layer, **common)
    inputs.layers = {
        name: inputs.layers[name]
        for name in ("parcels", "footprints", "planning", "admin")
        if name in inputs.layers
    }
    for name, frame in inputs.layers.items():
        if frame.crs is None:  # pragma: no cover - readers refuse this
            raise CRSError(f"the {name} layer has no CRS; pass crs=.")
        if not frame.crs.equals(target):
            inputs.reprojected[name] = frame.crs.to_string()
            attrs = frame.attrs
            inputs.layers[name] = frame.to_crs(target)
            inputs.layers[name].attrs = attrs
    inputs.layers["parcels"] = check_registered_unit(inputs.layers["parcels"])
    return inputs


#: Options of ``audit(raster=…)``, passed on to :func:`landgis.footprints_from_raster`.
_RASTER_OPTIONS = {
    "classes",
    "mask_from",
    "band",
    "sieve",
    "connectivity",
    "min_area",
    "min_share",
    "unknown_user",
    "window_size",
    "simplify",
}


def _area_of_interest(parcels: gpd.GeoDataFrame, others, crs):
    """The bounding box of the parcels and the planning and admin areas, in ``crs``:
    the land survey's 图斑 touching it are read (a county's layer holds far more)."""
    import shapely

    boxes = []
    for frame in (parcels, *others):
        if len(frame):
            shown = frame if frame.crs is None or frame.crs.equals(crs) else frame.to_crs(crs)
            boxes.append(shapely.box(*shown.total_bounds))
    return shapely.envelope(shapely.union_all(boxes)) if boxes else None


def _streamable(footprints, engine: str, memory_budget) -> bool:
    """Whether a partitioned audit reads the footprints tile by tile from their file."""
    return (
        not is_raster(footprints)
        and (memory_budget is not None or engine == "dask")
        and isinstance(footprints, str | Path)
        and Path(footprints).suffix.lower() in STREAMED_SUFFIXES
    )


def _raster_footprints(source, options, *, parcels, crs, source_crs) -> gpd.GeoDataFrame:
    """The footprints of a classified raster, with users from the parcels."""
    from landgis.io.raster import footprints_from_raster

    options = dict(options or {})
    unknown = set(options) - _RASTER_OPTIONS
    if unknown:
        raise ConfigError(
            f"raster= has unknown option(s) {sorted(unknown)}; use {sorted(_RASTER_OPTIONS)}."
        )
    if options.get("classes") is None:
        raise ConfigError(
            f"{source}: the footprints are a raster; name the pixel values that are actual use, "
            "e.g. raster={'classes': 50} (--classes 50) for ESA WorldCover built-up or 255 for "
            "a 0/255 building mask."
        )
    options.setdefault("unknown_user", UNKNOWN_USER)
    frame = footprints_from_raster(
        source, parcels=parcels, crs=crs, source_crs=source_crs, **options
    )
    raster_facts = report_of(frame).facts
    frame = read_footprints(frame)
    report_of(frame).update(raster_facts)
    return frame


# ---------------------------------------------------------- stage 3: raster idle


def _built_up_is_not_idle(raw, inputs: _Inputs, options, idle_ratio: float):
    """Footprints from a raster guess their users: a parcel is idle only when the
    raster shows it unbuilt too (its built-up share, by whoever, below ``idle_ratio``)."""
    idle = raw["category"].isin(codes(family="idle"))
    if not idle.any():
        return raw
    ids = raw.loc[idle, "parcel_id"].unique()
    share = coverage(
        inputs.layers["parcels"].set_index("parcel_id").loc[ids].geometry,
        inputs.raster,
        classes=options["classes"],
        band=options.get("band", 1),
        mask_from=options.get("mask_from"),
    )
    return drop_built_up_idle(raw, share, idle_ratio=idle_ratio)


# ------------------------------------------------------------ stage 4: registers


@dataclass
class _Books:
    """The raw findings with what the registers added."""

    raw: gpd.GeoDataFrame
    tables: dict[str, pd.DataFrame] | None = None
    evaluation: pd.DataFrame | None = None
    problems: list[dict] = field(default_factory=list)
    instalments: pd.DataFrame | None = None


def _apply_registers(raw, registers, inputs: _Inputs, result, campaign, stats, *, aliases,
                     encoding) -> _Books:  # fmt: skip
    """Read the registers and add the money and efficiency findings."""
    tables = read_registers(registers, aliases=aliases, encoding=encoding)
    parcels_report = report_of(inputs.layers["parcels"])
    for table in tables.values():  # the registers' warnings join the trail's
        for message in report_of(table).warnings:
            parcels_report.note(message)
    used = inputs.layers["footprints"]
    if inputs.source is not None:
        enterprises = tables.get("enterprises")
        if enterprises is not None and len(enterprises):
            raise ConfigError(
                "the per-mu evaluation (enterprise register) needs every footprint in "
                "memory; run it without memory_budget / engine='dask' (--memory-budget)."
            )
        if stats.get("survey_date") is not None:  # the rent of over-use runs from it
            used = gpd.GeoDataFrame(
                {"user": [""], "survey_date": [stats["survey_date"]]},
                geometry=gpd.GeoSeries([None], crs=inputs.crs),
            )
    accounts = apply_registers(
        raw,
        registers=tables,
        parcels=inputs.layers["parcels"],
        footprints=used,
        holders=result.holders,
        parcel_use=result.parcels,
        campaign=campaign,
    )
    problems = accounts.problems
    if problems:
        rows = ", ".join(
            f"{p['source']} row {p['row']}"
            + (f" [{p['key']}]" if p.get("key") else "")
            + f" ({p['column']} = {p['value']!r}: {p['problem']})"
            for p in problems[:3]
        )
        parcels_report.warn(
            f"{len(problems)} register row(s) set aside, the rest counted: {rows}"
            + (" …" if len(problems) > 3 else "")
            + "; all of them in problems.csv",
            stacklevel=3,
        )
    return _Books(
        raw=accounts.raw,
        tables=tables,
        evaluation=accounts.evaluation,
        problems=problems,
        instalments=accounts.instalments,
    )


# ---------------------------------------------------------------- stage 6: trail


def _register_trail(tables: dict[str, pd.DataFrame]) -> dict:
    out = {}
    for kind, table in tables.items():
        read = report_of(table)
        entry = {"source": read.source, "rows": read.rows}
        if read.facts.get("encodings"):
            entry["encoding"] = read.facts["encodings"]
        out[kind] = entry
    return out


def _trail(inputs: _Inputs, *, sources, campaign: Campaign, timings) -> dict:
    layers, crs, reprojected = inputs.layers, inputs.crs, inputs.reprojected

    entries = {}
    repairs = {}
    notes = []
    for name, frame in layers.items():
        read = report_of(frame)
        src = sources[name]
        entry: dict[str, Any] = {"source": read.source or name, "rows": len(frame)}
        if isinstance(src, str | Path) and Path(src).is_file():
            entry["sha256"] = _sha256(Path(src))
        if name in reprojected:
            entry["reprojected_from"] = reprojected[name]
        if "raster" in read.facts:
            entry["raster"] = read.facts["raster"]
        if "land_survey" in read.facts:
            entry["land_survey"] = read.facts["land_survey"]
        if read.encoding:
            entry["encoding"] = read.encoding
        entries[name] = entry
        for key in REPAIRS:
            if read.repairs.get(key):
                repairs[f"{name}.{key}"] = read.repairs[key]
        notes += read.warnings
    options = dataclasses.asdict(campaign.tolerances)
    return {
        "landgis_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "campaign": campaign.name,
        "crs": crs.to_string(),
        "inputs": entries,
        "options": options,
        "deadlines": {k: v.isoformat() for k, v in campaign.deadlines.items()},
        "deadline_days": dict(campaign.deadline_days),
        "repairs": repairs,
        "warnings": notes,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Summaries: per category and per holder, as plain DataFrames."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from landgis.config import INDICATORS
from landgis.crs import to_mu
from landgis.engine.ops import grouped_union
from landgis.order import pinyin_order
from landgis.rules import CATEGORIES, GROUPS, MEASURES

__all__ = [
    "TOTALS",
    "TOTAL_COLUMNS",
    "TOTAL_LABEL",
    "category_summary",
    "header_zh",
    "holder_summary",
    "labelled",
    "measured_land",
    "summary_table",
    "totals",
    "totals_by",
    "union_area",
]

_HEADERS_ZH = {
    "category": "类别代码",
    "category_label": "问题类别",
    "group": "责任工作组",
    "count": "数量",
    "measure": "计量口径",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "amount_owed": "金额（元）",
    "violation_m2": "违规用地面积（平方米）",
    "violation_mu": "违规用地面积（亩）",
    "parcel_m2": "涉及地块面积（平方米）",
    "parcel_mu": "涉及地块面积（亩）",
    "street": "街道",
    "village": "村（社区）",
    "holder": "权利人/使用人",
    "used_m2": "实际使用（平方米）",
    "own_m2": "红线内自用（平方米）",
    "encroachment_m2": "侵占他人（平方米）",
    "outside_redline_m2": "红线外（平方米）",
    "overuse_requisitioned_m2": "少征多用（平方米）",
    "overuse_leased_m2": "少租多用（平方米）",
    "unleased_use_m2": "未租先用（平方米）",
    "park_overuse_m2": "园区超用合计（平方米）",
    "findings": "问题数",
    "land_mu": "用地面积（亩）",
    "score": "综合得分",
    "efficiency_class": "评价类别",
    **INDICATORS,
    "source": "文件",
    "row": "行",
    "key": "编号",
    "column": "列",
    "value": "内容",
    "problem": "问题",
}


def header_zh(column: str) -> str:
    """The Chinese header of a summary, evaluation or problems column.

    Examples
    --------
    >>> header_zh("score_tax_per_mu"), header_zh("land_mu")
    ('亩均税收得分', '用地面积（亩）')
    """
    if column in _HEADERS_ZH:
        return _HEADERS_ZH[column]
    if column.startswith("score_") and column[6:] in INDICATORS:
        return INDICATORS[column[6:]].split("（")[0] + "得分"
    return column


def labelled(table: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """A summary table as written to CSV: Chinese headers, or English labels and groups."""
    table = table.copy()
    if lang == "en":
        if "category" in table:
            table["category_label"] = [
                CATEGORIES[c].label_en if c in CATEGORIES else label
                for c, label in zip(table["category"], table["category_label"], strict=True)
            ]
        if "group" in table:
            table["group"] = table["group"].map(lambda g: GROUPS.get(g, g))
        if "category_label" in table:
            table["category_label"] = table["category_label"].replace(TOTAL_LABEL, "Total")
        return table
    if "measure" in table:
        table["measure"] = table["measure"].map(lambda m: TOTALS.get(m, m))
    return table.rename(columns={c: header_zh(c) for c in table.columns})


#: The totals, in the order people read them: code → Chinese name (``measure``).
TOTALS: dict[str, str] = {"all": "问题总数", **MEASURES}
#: Columns of :func:`totals` and :func:`totals_by`, in order.
TOTAL_COLUMNS = [
    "findings",
    "violation_m2",
    "violation_mu",
    "parcel_m2",
    "parcel_mu",
    "amount_owed",
]


def _amounts(findings) -> np.ndarray:
    if "amount_owed" not in findings:
        return np.zeros(len(findings))
    return pd.to_numeric(findings["amount_owed"], errors="coerce").to_numpy(dtype=float)


def _land(findings, *, parcels=None) -> pd.DataFrame:
    """Every piece of land each finding counts in its total: one row per piece with
    ``row`` (the finding's position), ``measure``, ``key`` (the parcel id for
    parcel land, so one parcel named twice counts once; else empty) and
    ``geometry``.

    ``violation``, ``change`` and ``village`` findings count their own piece; ``parcel``
    findings the red lines they name — ``parcel_id`` (several for low efficiency,
    ``;`` separated) and, for ``overlap_conflict``, ``other_parcel_id`` — looked
    up in ``parcels``, or their own geometry where a parcel is not found (or no
    ``parcels`` are given); ``money`` findings none.
    """
    n = len(findings)
    measure = findings["category"].map(lambda c: CATEGORIES[c].measure).to_numpy(dtype=object)
    column = findings.geometry.name if isinstance(findings, gpd.GeoDataFrame) else "geometry"
    own = np.asarray(findings[column].values, dtype=object) if n else np.empty(0, object)
    pieces = np.flatnonzero(~np.isin(measure, ("parcel", "money")))  # violation, change, village
    frames = [
        pd.DataFrame(
            {"row": pieces, "measure": measure[pieces], "key": "", "geometry": own[pieces]}
        )
    ]
    named = np.flatnonzero(measure == "parcel")
    if len(named):
        ids = findings["parcel_id"].fillna("").astype(str).to_numpy(dtype=object)[named]
        if "other_parcel_id" in findings:
            other = findings["other_parcel_id"].fillna("").astype(str).to_numpy(dtype=object)
            conflict = (findings["category"] == "overlap_conflict").to_numpy()[named]
            ids = np.where(conflict, ids + ";" + other[named], ids)
        listed = pd.Series(ids, index=named).str.split(";").explode().str.strip()
        listed = listed[listed != ""]
        at = (
            pd.Index(parcels["parcel_id"].astype(str)).get_indexer(listed.to_numpy())
            if parcels is not None and len(parcels) and "parcel_id" in parcels
            else np.full(len(listed), -1)
        )
        complete = pd.Series(at >= 0, index=listed.index).groupby(level=0).all()
        complete = complete.reindex(named, fill_value=False).to_numpy()
        found = complete[np.searchsorted(named, listed.index.to_numpy())]
        geoms = (
            np.asarray(parcels.geometry.values, dtype=object)[at[found]]
            if found.any()
            else np.empty(0, dtype=object)
        )
        frames.append(
            pd.DataFrame(
                {
                    "row": listed.index.to_numpy()[found],
                    "measure": "parcel",
                    "key": listed.to_numpy(dtype=object)[found],
                    "geometry": geoms,
                }
            )
        )
        alone = named[~complete]  # a finding whose parcels are not all found: its own land
        frames.append(
            pd.DataFrame({"row": alone, "measure": "parcel", "key": "", "geometry": own[alone]})
        )
    land = pd.concat(frames, ignore_index=True)
    keep = ~(land["geometry"].isna() | shapely.is_empty(land["geometry"].to_numpy()))
    return land.loc[keep.to_numpy()].sort_values("row", kind="stable").reset_index(drop=True)


def measured_land(findings, measure: str, *, parcels=None) -> np.ndarray:
    """The land each finding of ``measure`` adds to its total (geometries, one per
    piece; see :func:`_land`)."""
    land = _land(findings, parcels=parcels)
    return land.loc[land["measure"] == measure, "geometry"].to_numpy(dtype=object)


def union_area(geoms) -> float:
    """Area of the union of ``geoms`` (m²): land under several geometries counts once."""
    geoms = np.asarray(
        [g for g in geoms if g is not None and not shapely.is_empty(g)], dtype=object
    )
    if not len(geoms):
        return 0.0
    if len(geoms) == 1:
        return float(shapely.area(geoms[0]))
    return float(shapely.area(shapely.union_all(geoms)))


def _union_areas(groups: np.ndarray, land: pd.DataFrame) -> pd.Series:
    """Area of the union of each group's land (one parcel counted once per group).

    Pieces that share interior with no other piece of their group (the usual
    case: a holder's pieces are disjoint) add their area; only each cluster of
    overlapping pieces is unioned.
    """
    if not len(land):
        return pd.Series(dtype=float)
    frame = pd.DataFrame({"group": groups, "key": land["key"].to_numpy()})
    keyed = frame["key"] != ""
    first = ~frame.loc[keyed].duplicated(["group", "key"])
    keep = np.ones(len(frame), dtype=bool)
    keep[frame.index[keyed][~first.to_numpy()]] = False
    geoms = land["geometry"].to_numpy(dtype=object)[keep]
    group = frame["group"].to_numpy(dtype=object)[keep]
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = (i < j) & (group[i] == group[j])
    i, j = i[pair], j[pair]
    inner = ~shapely.touches(geoms[i], geoms[j])
    i, j = i[inner], j[inner]
    n = len(geoms)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, cluster = connected_components(graph, directed=False)
    sizes = np.bincount(cluster)
    areas = shapely.area(geoms)
    shared = np.flatnonzero(sizes[cluster] > 1)
    if len(shared):
        keys, unions = grouped_union(geoms[shared], cluster[shared], grid_size=None)
        areas[shared] = 0.0  # a cluster's area, once, on its first piece
        first = np.full(n, -1)
        first[cluster[shared][::-1]] = shared[::-1]
        areas[first[keys]] = shapely.area(unions)
    return pd.Series(areas).groupby(group).sum()


def totals(findings, *, parcels=None) -> dict:
    """The headline totals of a set of findings, each meaning one thing.

    Parameters
    ----------
    findings
        Findings (all of a zone, or one street's, one holder's …).
    parcels
        The red lines, for 涉及地块面积 (the parcels parcel-level findings name).

    Returns
    -------
    dict
        ``findings`` (count); ``violation_m2``/``_mu`` (违规用地面积: area of the
        union of the land-use violation pieces — over-use, outside red line,
        use before lease, encroachment); ``parcel_m2``/``_mu`` (涉及地块面积: area
        of the union of the parcels of the parcel-level findings — idle, leased
        in, low efficiency, area mismatch, red-line overlap); ``amount_owed``
        (金额, 元: everything owed — rent and fee arrears, rent for over-used
        leased land).  Land found by several findings counts once; the areas are
        never added to each other, and money never to land.

    Examples
    --------
    >>> import landgis
    >>> a = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"))
    >>> t = totals(a.findings, parcels=a.parcels)
    >>> round(t["violation_mu"], 2), round(t["parcel_mu"], 2)  # data/boundaries/README.md
    (16.05, 132.0)
    """
    row = totals_by(findings.assign(_all=""), "_all", parcels=parcels).iloc[-1]
    return {"findings": int(row["findings"]), **{c: float(row[c]) for c in TOTAL_COLUMNS[1:]}}


def totals_by(findings, by: str, *, parcels=None) -> pd.DataFrame:
    """:func:`totals` per ``by`` (``holder``, ``street``, ``village``, ``group``,
    ``category``), then a 合计 row.

    The 合计 row is the totals of all the findings, not the sum of the rows:
    land shared by two holders (or streets) counts once in it.  Streets, villages
    and holders are in pinyin order, groups and categories in DOMAIN.md's.
    """
    keys = findings[by].fillna("").astype(str) if len(findings) else pd.Series(dtype=object)
    keys = keys.to_numpy(dtype=object)
    if by == "group":
        order = sorted(set(keys), key=lambda g: (list(GROUPS).index(g) if g in GROUPS else 99, g))
    elif by == "category":
        order = [c for c in CATEGORIES if c in set(keys)]
    elif by == "_all":
        order = []
    else:
        order = pinyin_order(keys)
    land = _land(findings, parcels=parcels)
    rows = land["row"].to_numpy(dtype=np.intp)
    amounts = pd.Series(_amounts(findings)).groupby(keys).sum(min_count=1)
    counts = pd.Series(1, index=np.arange(len(keys))).groupby(keys).size()
    table = pd.DataFrame(index=pd.Index([*order, TOTAL_LABEL], name=by))
    table["findings"] = counts.reindex(table.index).fillna(0).astype(int)
    table.loc[TOTAL_LABEL, "findings"] = len(findings)
    for measure in ("violation", "parcel"):
        mine = (land["measure"] == measure).to_numpy()
        part = land.loc[mine]
        per = _union_areas(keys[rows[mine]], part)
        whole = _union_areas(np.full(len(part), TOTAL_LABEL, dtype=object), part)
        area = per.reindex(table.index).fillna(0.0)
        area[TOTAL_LABEL] = float(whole.get(TOTAL_LABEL, 0.0))
        table[f"{measure}_m2"] = area
        table[f"{measure}_mu"] = to_mu(area.to_numpy(dtype=float))
    owed = amounts.reindex(table.index).fillna(0.0)
    owed[TOTAL_LABEL] = float(np.nansum(_amounts(findings))) if len(findings) else 0.0
    table["amount_owed"] = owed
    return table.reset_index()[[by, *TOTAL_COLUMNS]]


#: The label of a 合计 (total) row.
TOTAL_LABEL = "合计"


def category_summary(findings, *, parcels=None) -> pd.DataFrame:
    """Count, area and amount per category and working group, in DOMAIN.md's order.

    One row per category and the working group its findings carry (the
    modern agricultural park routes some to its own group).  ``measure`` says
    what the row's area is (see :data:`landgis.rules.MEASURES`): for
    ``violation`` categories the union of the pieces, for ``parcel`` ones the
    union of the parcels they name (so a parcel named by two findings counts
    once), none for ``money`` ones; ``amount_owed`` the money owed (元).
    """
    rows = []
    group_rank = {g: i for i, g in enumerate(GROUPS)}
    codes = findings["category"].to_numpy(dtype=object)
    default = np.array([CATEGORIES[c].group for c in codes], dtype=object)
    groups = (
        findings["group"].fillna(pd.Series(default, index=findings.index)).to_numpy(dtype=object)
        if "group" in findings
        else default
    )
    keys = np.array([f"{c}\x00{g}" for c, g in zip(codes, groups, strict=True)], dtype=object)
    land = _land(findings, parcels=parcels)  # each category's land is of its own measure
    areas = _union_areas(keys[land["row"].to_numpy(dtype=np.intp)], land)
    amounts = pd.Series(_amounts(findings)).groupby(keys)
    owed = amounts.sum(min_count=1)
    counts = amounts.size()
    for code, cat in CATEGORIES.items():
        mine = sorted({g for c, g in zip(codes, groups, strict=True) if c == code},
                      key=lambda g: (group_rank.get(g, 99), g))  # fmt: skip
        for group in mine:
            key = f"{code}\x00{group}"
            area = np.nan if cat.measure == "money" else float(areas.get(key, 0.0))
            rows.append(
                {
                    "category": code,
                    "category_label": cat.label,
                    "group": group,
                    "count": int(counts[key]),
                    "measure": cat.measure,
                    "area_m2": area,
                    "area_mu": to_mu(area),
                    "amount_owed": float(owed[key]) if pd.notna(owed[key]) else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=_SUMMARY_COLUMNS)


_SUMMARY_COLUMNS = [
    "category",
    "category_label",
    "group",
    "count",
    "measure",
    "area_m2",
    "area_mu",
    "amount_owed",
]


def summary_table(
    findings, *, parcels=None, categories: pd.DataFrame | None = None, sums: dict | None = None
) -> pd.DataFrame:
    """``summary.csv``: :func:`category_summary` and then the 合计 rows of :func:`totals`.

    The 合计 rows (``category`` empty, ``category_label`` 合计) give the number
    of findings, 违规用地面积, 涉及地块面积 and the amount owed — each once,
    never a sum of areas across categories.  ``categories`` and ``sums`` are those
    two when already computed.
    """
    table = category_summary(findings, parcels=parcels) if categories is None else categories
    t = totals(findings, parcels=parcels) if sums is None else sums
    measures = findings["category"].map(lambda c: CATEGORIES[c].measure)
    amounts = _amounts(findings)
    extra = [
        ("all", t["findings"], np.nan, np.nan),
        ("violation", int((measures == "violation").sum()), t["violation_m2"], np.nan),
        ("parcel", int((measures == "parcel").sum()), t["parcel_m2"], np.nan),
        ("money", int((np.nan_to_num(amounts) > 0).sum()), np.nan, t["amount_owed"]),
    ]
    if (measures == "change").any():
        change = union_area(measured_land(findings, "change"))
        extra.append(("change", int((measures == "change").sum()), change, np.nan))
    rows = pd.DataFrame(
        [
            {
                "category": "",
                "category_label": TOTAL_LABEL,
                "group": "",
                "count": n,
                "measure": m,
                "area_m2": a,
                "area_mu": to_mu(a),
                "amount_owed": amount,
            }
            for m, n, a, amount in extra
        ],
        columns=_SUMMARY_COLUMNS,
    )
    return pd.concat([table, rows], ignore_index=True)


def holder_summary(findings, holders: pd.DataFrame, *, parcels=None) -> pd.DataFrame:
    """Per holder: the use figures of the audit, the number of findings and the totals
    of its findings (违规用地面积, 涉及地块面积, 金额)."""
    table = holders.copy()
    counts = findings.groupby("holder").size()
    table["findings"] = counts.reindex(table.index, fill_value=0).astype(int)
    per = totals_by(findings[findings["holder"].isin(table.index)], "holder", parcels=parcels)
    per = per[per["holder"] != TOTAL_LABEL].set_index("holder")
    for column in ("violation_m2", "violation_mu", "parcel_m2", "parcel_mu", "amount_owed"):
        table[column] = per[column].reindex(table.index).fillna(0.0)
    return table.sort_values(["findings", "used_m2"], ascending=False)

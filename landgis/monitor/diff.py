"""Two audit rounds side by side: which findings are new, which persist, which are gone.

A finding's id hashes its position to 1 cm, so after a new survey the same
violation usually comes back under another id (the footprint was redrawn, the
survey is shifted by a few decimetres, the piece grew).  Findings are therefore
matched by what they are and where they lie, never by id or row order:

- same category and same holder (names compared as the engine compares them:
  Unicode NFKC, blanks dropped), and
- spatial overlap *with a tolerance*: each geometry is compared with the other
  grown by ``tolerance`` metres, so a survey shifted by less than that overlaps
  itself completely, however thin the piece.  Two findings match when at least
  ``min_overlap`` of either lies within the other (a piece that grew or shrank
  still matches).

Matches are grouped into connected sets, so a piece that split in two, or two
pieces that grew together, is one *persisting* row naming every id involved.
Findings without geometry (register findings such as arrears) match on
category, holder and parcel.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import DEADLINE_BASES
from landgis.crs import to_mu
from landgis.errors import CRSError, LandgisWarning, SchemaError
from landgis.io.atomic import atomic_path
from landgis.io.columns import cell_text
from landgis.order import pinyin_key
from landgis.present.csv import write_table
from landgis.rules import CATEGORIES
from landgis.schema import match_key

__all__ = [
    "AMOUNT_COLUMNS",
    "DIFF_COLUMNS",
    "DIFF_HEADERS_ZH",
    "STATUS_LABELS",
    "as_findings",
    "diff_rounds",
    "diff_table",
    "write_diff",
]

#: Row status → Chinese label.
STATUS_LABELS = {"new": "新增", "persisting": "持续存在", "resolved": "已消除"}
_TREND_LABELS = {"grown": "扩大", "shrunk": "缩小", "unchanged": "不变", "": ""}
_RELATION_LABELS = {
    "split": "拆分",
    "merged": "合并",
    "regrouped": "拆分合并",
    "reclassified": "类别变更",
    "": "",
}

#: Columns of a findings frame that may carry the amount owed (yuan): the audit's
#: ``amount_owed`` (arrears, rent for over-used leased land), else the first present.
AMOUNT_COLUMNS = ("amount_owed", "amount_due", "amount")

#: Columns of :func:`diff_rounds`' result, before ``geometry``.
DIFF_COLUMNS = [
    "status",
    "status_label",
    "trend",
    "category",
    "category_label",
    "holder",
    "parcel_id",
    "other_holder",
    "street",
    "village",
    "old_id",
    "new_id",
    "old_area_m2",
    "new_area_m2",
    "area_change_m2",
    "old_area_mu",
    "new_area_mu",
    "area_change_mu",
    "overlap",
    "relation",
    "thin",
    "action",
    "group",
    "departments",
    "deadline",
    "lon",
    "lat",
    "amount_due",
    "deadline_basis",
]

#: Chinese headers of the diff CSV.
DIFF_HEADERS_ZH = {
    "status_label": "变化",
    "trend": "面积变化趋势",
    "category_label": "问题类别",
    "category": "类别代码",
    "holder": "权利人/使用人",
    "parcel_id": "宗地代码",
    "other_holder": "相关权利人",
    "street": "街道",
    "village": "村（社区）",
    "old_id": "上轮编号",
    "new_id": "本轮编号",
    "old_area_m2": "上轮面积（平方米）",
    "new_area_m2": "本轮面积（平方米）",
    "area_change_m2": "面积变化（平方米）",
    "old_area_mu": "上轮面积（亩）",
    "new_area_mu": "本轮面积（亩）",
    "area_change_mu": "面积变化（亩）",
    "overlap": "重合度",
    "relation": "拆分/合并",
    "thin": "狭长图斑（疑为测量偏差）",
    "action": "处置建议",
    "group": "责任工作组",
    "departments": "协办部门",
    "deadline": "完成时限",
    "lon": "经度",
    "lat": "纬度",
    "amount_due": "欠缴金额（元）",
    "deadline_basis": "时限依据",
}

_TEXT = (
    "category_label",
    "holder",
    "parcel_id",
    "other_holder",
    "street",
    "village",
    "action",
    "group",
    "departments",
)
#: An area change within max(1 m², 1 %) of the earlier area counts as unchanged.
_UNCHANGED_M2 = 1.0
_UNCHANGED_SHARE = 0.01


def as_findings(source: Any, *, name: str = "findings") -> gpd.GeoDataFrame:
    """A findings frame from a GeoDataFrame, an :class:`~landgis.Audit`, or an audit's output.

    Parameters
    ----------
    source
        A findings GeoDataFrame, an ``Audit`` (its ``.findings``), or the path of
        an audit's output folder or its ``findings.gpkg``.
    name
        What to call it in error messages (``"round 1"`` …).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy, with ``finding_id``, ``category``, ``holder`` and the optional
        text columns present (empty text where the source had none).

    Raises
    ------
    SchemaError
        When ``category``, ``holder`` or ``finding_id`` is missing.
    """
    from landgis.io.outputs import read_outputs

    label = name
    if isinstance(source, str | Path):
        label = f"{name} ({source})"
        frame = read_outputs(source)["findings"]
        assert frame is not None  # read_outputs raises when there is no findings layer
    elif hasattr(source, "findings") and isinstance(source.findings, gpd.GeoDataFrame):
        frame = source.findings
    elif isinstance(source, gpd.GeoDataFrame):
        frame = source
    else:
        raise SchemaError(
            f"{name}: expected a findings GeoDataFrame, an Audit or an audit output folder, "
            f"got {type(source).__name__}."
        )
    missing = [c for c in ("finding_id", "category", "holder") if c not in frame]
    if missing:
        raise SchemaError(
            f"{label}: no column {', '.join(missing)}; the columns are {list(frame.columns)}. "
            "Pass the findings of landgis.audit() or an audit's output folder."
        )
    unknown = sorted(set(frame["category"].astype(str)) - set(CATEGORIES))
    if unknown:
        raise SchemaError(
            f"{label}: unknown categories {unknown}; expected codes such as {list(CATEGORIES)[:3]}."
        )
    out = frame.copy()
    for col in (*_TEXT, "finding_id", "category"):
        if col in out:
            out[col] = out[col].fillna("").astype(str).astype(object)
        else:
            out[col] = ""
    if "category_label" in out:
        empty = out["category_label"] == ""
        out.loc[empty, "category_label"] = [CATEGORIES[c].label for c in out["category"][empty]]
    geoms = np.asarray(out.geometry.values, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        out.loc[bad, out.geometry.name] = shapely.make_valid(geoms[bad])
    return out.reset_index(drop=True)


def diff_rounds(
    before: Any,
    after: Any,
    *,
    tolerance: float = 1.0,
    min_overlap: float = 0.3,
) -> gpd.GeoDataFrame:
    """Compare the findings of two audit rounds: new, persisting and resolved.

    Parameters
    ----------
    before, after
        The earlier and the later round: findings GeoDataFrames, ``Audit``
        objects, or audit output folders (see :func:`as_findings`).
    tolerance
        Metres: the largest survey shift to absorb.  Each finding is compared
        with the other round's finding grown by this much, so a shift below it
        changes nothing.  New pieces narrower than it are flagged ``thin``.
    min_overlap
        Share (0–1] of either finding that must lie within the other (grown by
        ``tolerance``) for the two to be the same case.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per case: :data:`DIFF_COLUMNS` and ``geometry`` (the later
        round's for new and persisting rows, the earlier round's for resolved
        ones), in ``before``'s CRS; sorted by status (new, persisting,
        resolved), category, street and holder.

        - ``status``: ``new`` (only in ``after``), ``persisting`` or
          ``resolved`` (only in ``before``); ``status_label`` in Chinese.
        - ``old_id`` / ``new_id``: the finding ids in each round (``;``-joined
          when a piece split or merged; ``relation`` then says which).
        - ``old_area_m2``, ``new_area_m2``, ``area_change_m2`` and the same in 亩;
          ``trend``: ``grown``, ``shrunk`` or ``unchanged`` (within 1 m² or 1 %).
        - ``overlap``: how well the two rounds' geometries coincide, allowing
          ``tolerance`` (1 = the same land).
        - ``thin``: narrower than ``tolerance`` everywhere, typical of a survey
          shift between footprints and red lines rather than of a violation.
        - The descriptive columns (holder, street, action, deadline …) come from
          the later round, or the earlier one for resolved rows.

    Raises
    ------
    SchemaError
        When a round lacks the findings columns.
    CRSError
        When one round has a CRS and the other none.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> def findings(fid, x):
    ...     return gpd.GeoDataFrame({"finding_id": [fid], "category": ["outside_redline"],
    ...         "holder": ["华达"], "area_m2": [1200.0]},
    ...         geometry=[box(x, 0, x + 30, 40)], crs=4528)
    >>> d = diff_rounds(findings("A1", 0.0), findings("B7", 0.3))  # survey shifted 0.3 m
    >>> d[["status", "old_id", "new_id", "trend"]].to_dict("records")
    [{'status': 'persisting', 'old_id': 'A1', 'new_id': 'B7', 'trend': 'unchanged'}]
    """
    if not tolerance >= 0:
        raise SchemaError(f"tolerance={tolerance} must be 0 or more (metres).")
    if not 0 < min_overlap <= 1:
        raise SchemaError(f"min_overlap={min_overlap} must lie in (0, 1].")
    old = as_findings(before, name="the earlier round")
    new = as_findings(after, name="the later round")
    new = _same_crs(old, new)
    amount = next((c for c in AMOUNT_COLUMNS if c in old or c in new), None)

    og = np.asarray(old.geometry.values, dtype=object)
    ng = np.asarray(new.geometry.values, dtype=object)
    oi, nj = _candidate_pairs(old, new, og, ng, tolerance, min_overlap)
    n_old, n_new = len(old), len(new)
    labels = _components(n_old, n_new, oi, nj)

    rank = {code: i for i, code in enumerate(CATEGORIES)}
    rows = []
    geometries = []
    o_area = _area(old, og)
    n_area = _area(new, ng)
    members: dict[int, tuple[list[int], list[int]]] = {}
    for i, lab in enumerate(labels[:n_old]):
        members.setdefault(lab, ([], []))[0].append(i)
    for j, lab in enumerate(labels[n_old:]):
        members.setdefault(lab, ([], []))[1].append(j)
    for olds, news in members.values():
        olds = sorted(olds, key=lambda i: -o_area[i])
        news = sorted(news, key=lambda j: -n_area[j])
        if news:
            rep, frame = new.iloc[news[0]], new
            geom = _union(ng[news])
        else:
            rep, frame = old.iloc[olds[0]], old
            geom = _union(og[olds])
        status = "persisting" if olds and news else ("new" if news else "resolved")
        old_a = float(o_area[olds].sum()) if olds else np.nan
        new_a = float(n_area[news].sum()) if news else np.nan
        change = {"new": new_a, "resolved": -old_a}.get(status, new_a - old_a)
        trend = ""
        if status == "persisting":
            band = max(_UNCHANGED_M2, _UNCHANGED_SHARE * old_a)
            trend = "grown" if change > band else ("shrunk" if change < -band else "unchanged")
        relation = ""
        if len(olds) > 1 or len(news) > 1:
            relation = (
                "regrouped"
                if len(olds) > 1 and len(news) > 1
                else ("split" if len(news) > 1 else "merged")
            )
        overlap = np.nan
        if status == "persisting":
            overlap = _tolerant_overlap(_union(og[olds]), geom, tolerance)
        row = {
            "status": status,
            "status_label": STATUS_LABELS[status],
            "trend": trend,
            "category": rep["category"],
            "old_id": ";".join(old["finding_id"].iloc[olds]) if olds else "",
            "new_id": ";".join(new["finding_id"].iloc[news]) if news else "",
            "old_area_m2": old_a,
            "new_area_m2": new_a,
            "area_change_m2": change,
            "overlap": overlap,
            "relation": relation,
            "thin": _thin(geom, tolerance),
            "deadline": cell_text(rep.get("deadline", "")),
            "deadline_basis": cell_text(rep.get("deadline_basis", "")),
            "lon": rep.get("lon", np.nan),
            "lat": rep.get("lat", np.nan),
            "amount_due": _amount(frame, news or olds, amount),
            "_rank": rank[rep["category"]],
        }
        for col in _TEXT:
            row[col] = rep[col]
        rows.append(row)
        geometries.append(geom)

    df = pd.DataFrame(rows, columns=[*DIFF_COLUMNS, "_rank"])
    for col in ("old_area_m2", "new_area_m2", "area_change_m2", "overlap", "lon", "lat"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["amount_due"] = pd.to_numeric(df["amount_due"], errors="coerce").astype(float)
    df["thin"] = df["thin"].astype(bool)
    for col in ("old_area", "new_area", "area_change"):
        df[f"{col}_mu"] = to_mu(df[f"{col}_m2"].to_numpy(dtype=float))
    df["_status"] = df["status"].map({"new": 0, "persisting": 1, "resolved": 2})
    out = gpd.GeoDataFrame(df, geometry=geometries, crs=old.crs if old.crs else new.crs)
    out["_street"] = out["street"].map(pinyin_key)  # for people: pinyin order
    out["_holder"] = out["holder"].map(pinyin_key)
    out = out.sort_values(["_status", "_rank", "_street", "_holder", "new_id", "old_id"])
    return out.drop(columns=["_status", "_rank", "_street", "_holder"]).reset_index(drop=True)


def diff_table(diff: gpd.GeoDataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """The diff as its CSV shows it: no geometry, rounded, Chinese headers and words.

    Parameters
    ----------
    diff
        The result of :func:`diff_rounds`.
    lang
        ``"zh"`` (Chinese headers and labels) or ``"en"`` (column codes, English words).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang={lang!r}; use 'zh' or 'en'.")
    cols = [c for c in DIFF_COLUMNS if c != "status"]
    if lang == "en":
        cols = [c for c in DIFF_COLUMNS if c != "status_label"]
    if diff["amount_due"].isna().all():
        cols.remove("amount_due")
    df = pd.DataFrame(diff[cols]).copy()
    for col, digits in (("_m2", 2), ("_mu", 4)):
        for c in [c for c in df.columns if c.endswith(col)]:
            df[c] = df[c].round(digits)
    df["overlap"] = df["overlap"].round(3)
    if lang == "zh":
        df["trend"] = df["trend"].map(_TREND_LABELS)
        df["relation"] = df["relation"].map(_RELATION_LABELS)
        df["thin"] = np.where(df["thin"], "是", "")
        df["deadline_basis"] = df["deadline_basis"].map(lambda b: DEADLINE_BASES.get(b, b))
        df = df.rename(columns=DIFF_HEADERS_ZH)
    else:
        df["category_label"] = [CATEGORIES[c].label_en for c in diff["category"]]
    return df


def write_diff(diff: gpd.GeoDataFrame, outdir: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``diff.csv`` (Excel-safe, UTF-8 with BOM) and ``diff.gpkg`` (layer ``diff``).

    Parameters
    ----------
    diff
        The result of :func:`diff_rounds`.
    outdir
        Created if missing; each file is replaced only once complete.
    lang
        Language of the CSV.

    Returns
    -------
    dict
        File name → path.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = {"diff.csv": write_table(diff_table(diff, lang=lang), outdir / "diff.csv")}
    frame = diff.copy()
    frame["thin"] = frame["thin"].astype(int)
    with atomic_path(outdir / "diff.gpkg") as tmp:
        frame.to_file(tmp, layer="diff", driver="GPKG", engine="pyogrio")
    written["diff.gpkg"] = outdir / "diff.gpkg"
    return written


# ----------------------------------------------------------------- matching


def _same_crs(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if old.crs is None and new.crs is None:
        return new
    if old.crs is None or new.crs is None:
        which = "earlier" if old.crs is None else "later"
        raise CRSError(
            f"the {which} round's findings have no CRS while the other's are in "
            f"{(old.crs or new.crs).to_string()}; set it with .set_crs()."
        )
    if not old.crs.equals(new.crs):
        warnings.warn(
            f"the later round is in {new.crs.to_string()}, the earlier in "
            f"{old.crs.to_string()}; the later round is reprojected for the comparison.",
            LandgisWarning,
            stacklevel=3,
        )
        return new.to_crs(old.crs)
    return new


def _keys(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.array(
        [f"{c}\x1f{match_key(h)}" for c, h in zip(frame["category"], frame["holder"], strict=True)],
        dtype=object,
    )


def _candidate_pairs(old, new, og, ng, tolerance, min_overlap):
    """Pairs (old index, new index) that are the same case."""
    okey, nkey = _keys(old), _keys(new)
    o_sp = ~(shapely.is_missing(og) | shapely.is_empty(og))
    n_sp = ~(shapely.is_missing(ng) | shapely.is_empty(ng))
    pairs_o: list[np.ndarray] = []
    pairs_n: list[np.ndarray] = []
    if o_sp.any() and n_sp.any():
        o_idx, n_idx = np.flatnonzero(o_sp), np.flatnonzero(n_sp)
        tree = shapely.STRtree(ng[n_idx])
        a, b = tree.query(og[o_idx], predicate="dwithin", distance=max(tolerance, 1e-9))
        i, j = o_idx[a], n_idx[b]
        same = okey[i] == nkey[j]
        i, j = i[same], j[same]
        if len(i):
            oa, na = shapely.area(og[i]), shapely.area(ng[j])
            grow = tolerance if tolerance > 0 else 0.0
            obuf = shapely.buffer(og[i], grow, quad_segs=4) if grow else og[i]
            nbuf = shapely.buffer(ng[j], grow, quad_segs=4) if grow else ng[j]
            cover_o = _share(shapely.area(shapely.intersection(og[i], nbuf)), oa)
            cover_n = _share(shapely.area(shapely.intersection(ng[j], obuf)), na)
            keep = np.maximum(cover_o, cover_n) >= min_overlap
            pairs_o.append(i[keep])
            pairs_n.append(j[keep])
    # Findings without geometry (from the registers): same category, holder and parcel.
    o_flat, n_flat = np.flatnonzero(~o_sp), np.flatnonzero(~n_sp)
    if len(o_flat) and len(n_flat):
        where = {}
        for j in n_flat:
            where.setdefault((nkey[j], match_key(new["parcel_id"].iloc[j])), []).append(j)
        for i in o_flat:
            for j in where.get((okey[i], match_key(old["parcel_id"].iloc[i])), []):
                pairs_o.append(np.array([i]))
                pairs_n.append(np.array([j]))
    if not pairs_o:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.concatenate(pairs_o).astype(int), np.concatenate(pairs_n).astype(int)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``; a zero-area geometry within reach counts as wholly shared."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), 1.0)


def _components(n_old: int, n_new: int, oi: np.ndarray, nj: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = n_old + n_new
    graph = coo_matrix((np.ones(len(oi)), (oi, n_old + nj)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _tolerant_overlap(a, b, tolerance: float) -> float:
    """(area(a ∩ b⁺) + area(b ∩ a⁺)) / (area(a) + area(b)), ⁺ = grown by ``tolerance``."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return np.nan
    total = a.area + b.area
    if total == 0:
        return 1.0
    ab = a.buffer(tolerance, quad_segs=4) if tolerance > 0 else a
    bb = b.buffer(tolerance, quad_segs=4) if tolerance > 0 else b
    return float(min(1.0, (a.intersection(bb).area + b.intersection(ab).area) / total))


def _thin(geom, tolerance: float) -> bool:
    """Narrower than ``tolerance`` everywhere (a survey sliver, not a building)."""
    if tolerance <= 0 or geom is None or geom.is_empty or geom.area == 0:
        return False
    return bool(shapely.buffer(geom, -tolerance / 2, quad_segs=4).is_empty)


def _union(geoms: np.ndarray):
    kept = [g for g in geoms if g is not None and not g.is_empty]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return shapely.union_all(np.asarray(kept, dtype=object))


def _area(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> np.ndarray:
    """The finding's area: its ``area_m2`` (area_mismatch, arrears: the parcel's), else
    the geometry's."""
    if "area_m2" in frame:
        values = pd.to_numeric(frame["area_m2"], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(values), shapely.area(geoms), values)
    return np.nan_to_num(shapely.area(geoms), nan=0.0)


def _amount(frame: gpd.GeoDataFrame, rows: list[int], column: str | None) -> float:
    if column is None or column not in frame:
        return np.nan
    values = pd.to_numeric(frame[column].iloc[rows], errors="coerce")
    return float(values.sum()) if values.notna().any() else np.nan

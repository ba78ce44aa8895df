"""Lists sorted for people: Chinese names in pinyin order (拼音排序), as offices sort them.

Python sorts strings by code point, which puts 京泰路街道 (U+4EAC) before 城东街道
(U+57CE); a Chinese reader expects 城东 (chéng) before 京泰 (jīng).  Names are
compared by their pinyin with tones (``pypinyin``, which reads words such as
重庆 or 长安 by their phrase), then by the text itself; empty names come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import pandas as pd

__all__ = ["pinyin_key", "pinyin_order", "sort_frame"]


@lru_cache(maxsize=65536)
def pinyin_key(text: str) -> tuple:
    """Sort key of a name: empty last, then pinyin with tone numbers, then the text.

    Examples
    --------
    >>> sorted(["京泰路街道", "城东街道", ""], key=pinyin_key)
    ['城东街道', '京泰路街道', '']
    """
    from pypinyin import Style, lazy_pinyin

    text = "" if text is None else str(text)
    syllables = tuple(s.casefold() for s in lazy_pinyin(text, style=Style.TONE3))
    return (text == "", syllables, text)


def pinyin_order(values: Iterable) -> list:
    """The distinct values in pinyin order (see :func:`pinyin_key`).

    Examples
    --------
    >>> pinyin_order(["朱庄村", "周庄村", "塘湾村", "朱庄村"])
    ['塘湾村', '周庄村', '朱庄村']
    """
    return sorted({("" if v is None or v != v else str(v)) for v in values}, key=pinyin_key)


def sort_frame(
    frame: pd.DataFrame, columns: list[str], *, first: Sequence[str] = ()
) -> pd.DataFrame:
    """``frame`` sorted by ``first`` (as they are), then ``columns`` in pinyin order; stable."""
    keys = {}
    for c in columns:
        rank = {v: i for i, v in enumerate(pinyin_order(frame[c]))}
        keys[f"__{c}"] = frame[c].map(lambda v, r=rank: r["" if v is None or v != v else str(v)])
    ordered = frame.assign(**keys).sort_values([*first, *keys], kind="stable")
    return ordered.drop(columns=list(keys))

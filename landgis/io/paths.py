"""File names made from data (street or holder names) that are safe on every system."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["safe_filename"]

_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(name: str, *, taken: set[str] | None = None, max_length: int = 60) -> str:
    """A file-name stem for ``name``: letters (Chinese included) and digits kept.

    Path separators, dots at the ends, control and punctuation characters
    become ``_``; Windows device names get a ``_`` prefix; an empty result is
    ``unnamed``.  With ``taken`` (stems already used, compared without case),
    a suffix ``-2``, ``-3`` … keeps the stem unique, and the stem is added.

    Examples
    --------
    >>> safe_filename("京泰路街道")
    '京泰路街道'
    >>> safe_filename("../../etc/passwd")
    'etc_passwd'
    >>> safe_filename("<script>")
    'script'
    """
    text = unicodedata.normalize("NFKC", str(name))
    text = re.sub(r"[^\w\-·]+", "_", text, flags=re.UNICODE)
    text = re.sub(r"_+", "_", text).strip("._- ")[:max_length] or "unnamed"
    if text.upper().split(".")[0] in _RESERVED:
        text = "_" + text
    if taken is not None:
        stem, n = text, 2
        while text.casefold() in {t.casefold() for t in taken}:
            text = f"{stem}-{n}"
            n += 1
        taken.add(text)
    return text

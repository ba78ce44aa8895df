"""File names made from data (street or holder names) that are safe on every system."""

from __future__ import annotations

import re
import unicodedata

from landgis.io.text_out import UNHOLDABLE, cut_bytes, replacements

__all__ = ["MAX_NAME_BYTES", "safe_filename"]

_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}

#: Longest stem :func:`safe_filename` returns, in UTF-8 bytes.  A file name may
#: hold 255 bytes (ext4, APFS; NTFS 255 UTF-16 units); this leaves room for a
#: ``-2`` suffix, the extension and the temporary name of an atomic write
#: (``.<stem>.<12 hex>.tmp.html``, 23 bytes more).
MAX_NAME_BYTES = 180


def safe_filename(
    name: str,
    *,
    taken: set[str] | None = None,
    max_length: int = 60,
    max_bytes: int = MAX_NAME_BYTES,
) -> str:
    """A file-name stem for ``name``: letters (Chinese included) and digits kept.

    Path separators, dots at the ends, control and punctuation characters
    become ``_``; Windows device names get a ``_`` prefix; an empty result is
    ``unnamed``.  The stem is cut to ``max_length`` characters and
    ``max_bytes`` UTF-8 bytes (75 CJK Extension-B characters are 300 bytes).
    With ``taken`` (stems already used, compared without case), a suffix
    ``-2``, ``-3`` … keeps the stem unique, and the stem is added: put the
    documented names (department maps) into ``taken`` first and they never move.
    A cut or suffixed name is noted in the active
    :func:`~landgis.io.text_out.counting` tally, so the CLI can say which file
    holds which name.

    Examples
    --------
    >>> safe_filename("京泰路街道")
    '京泰路街道'
    >>> safe_filename("../../etc/passwd")
    'etc_passwd'
    >>> safe_filename("<script>")
    'script'
    >>> len(safe_filename("\\U00020000" * 75).encode())
    180
    >>> safe_filename("城管局", taken={"城管局"})
    '城管局-2'
    """
    original = str(name)
    text = unicodedata.normalize("NFKC", original)
    text = re.sub(r"[^\w\-·]+", "_", text, flags=re.UNICODE)
    full = re.sub(r"_+", "_", text).strip("._- ")
    text = cut_bytes(full[:max_length], max_bytes).rstrip("._- ") or "unnamed"
    was_cut = bool(full) and text != full
    if text.upper().split(".")[0] in _RESERVED:
        text = "_" + text
    base = text
    if taken is not None:
        n, used = 2, {t.casefold() for t in taken}
        while text.casefold() in used:
            text = f"{base}-{n}"
            n += 1
        taken.add(text)
    tally = replacements()
    if tally is not None:
        bad = UNHOLDABLE.findall(original)
        if bad:
            tally.add(original, bad, "file names")
        reasons = [f"cut to {len(base.encode())} bytes"] if was_cut else []
        if text != base:
            reasons.append(f"{base} was taken")
        if reasons:
            shown = original if len(original) <= 40 else original[:40] + "…"
            tally.note_file(f"{shown!r} → {text} ({', '.join(reasons)})")
    return text

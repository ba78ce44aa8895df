"""Which encoding a file's text is in: one rule for every reader that has to guess.

Chinese land offices deliver text in two encodings: UTF-8 (GeoPandas, QGIS,
Excel's "CSV UTF-8", newer CAD) and GBK/GB18030 (older ArcGIS, Excel's plain
CSV, most CAD and survey software).  Files say which one they use in different
ways — a Shapefile's ``.cpg``, a byte-order mark, a DXF ``$DWGCODEPAGE`` — and
often say it wrongly.  :func:`choose_encoding` decides from the text itself:

1. an encoding given by the user wins;
2. a byte-order mark decides (UTF-8, UTF-16);
3. text that is pure ASCII needs no decision;
4. text that is valid UTF-8 is UTF-8 (other multi-byte text is practically
   never valid UTF-8 by accident);
5. a declared encoding is trusted when the text bears it out (it decodes);
   a single-byte declaration (Latin-1, 1252) is trusted only when the text does
   not read as GB18030 Chinese, because every byte string "decodes" as Latin-1;
6. otherwise GB18030, the superset of GBK and GB2312.

Only the text is looked at: for a Shapefile that means the field names and the
character fields of the records, never the DBF's binary header (whose record
count and lengths are arbitrary bytes).  The decision says why it was taken and
whether it contradicts what the file declared, so the audit trail can record it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landgis.errors import InputFileError

__all__ = ["TextEncoding", "choose_encoding", "dbf_encoding", "decode_text", "recode_latin1"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class TextEncoding:
    """The encoding chosen for a file's text, and why.

    Attributes
    ----------
    name
        Python codec name (``"utf-8"``, ``"gb18030"``, ``"cp936"`` …).
    reason
        Why, in a few words (for messages and ``summary.json``).
    declared
        What the file itself declared (``.cpg``, ``$DWGCODEPAGE``), if anything.
    """

    name: str
    reason: str
    declared: str | None = None

    @property
    def deviates(self) -> bool:
        """The file declared an encoding and the text says otherwise."""
        declared = _codec(self.declared) if self.declared else None
        return declared is not None and declared != _codec(self.name)

    def as_dict(self) -> dict[str, str]:
        out = {"name": self.name, "reason": self.reason}
        if self.declared:
            out["declared"] = self.declared
        return out


def choose_encoding(
    samples: Iterable[bytes], *, declared: str | None = None, given: str | None = None
) -> TextEncoding:
    """Decide the encoding of some text from the text itself (rules in the module doc).

    Parameters
    ----------
    samples
        The text to judge, in pieces (e.g. one piece per field value).  A piece
        that ends in the middle of a UTF-8 character (a value cut at a field
        width) still counts as UTF-8.
    declared
        The encoding the file declares (``"UTF-8"``, ``"936"``, ``"ANSI_949"``).
    given
        An encoding named by the user: taken as it is.

    Examples
    --------
    >>> choose_encoding(["泰州华达".encode("utf-8")], declared="UTF-8").name
    'utf-8'
    >>> e = choose_encoding(["泰州华达".encode("gbk")], declared="UTF-8")
    >>> e.name, e.deviates
    ('gb18030', True)
    >>> choose_encoding(["泰州华达".encode("gbk")], declared="936").name
    'gbk'
    """
    if given:
        name = _codec(given)
        if name is None:
            raise LookupError(f"unknown encoding {given!r}; use e.g. 'utf-8' or 'gbk'.")
        return TextEncoding(name, "given", declared)
    pieces = [s for s in samples if s and not s.isascii()]
    if not pieces:
        return TextEncoding(_codec(declared) or "utf-8", "the text is ASCII", declared)
    if all(_is_utf8(p) for p in pieces):
        return TextEncoding("utf-8", "the text is valid UTF-8", declared)
    said = _codec(declared) if declared else None
    trusted = (
        said is not None
        and said not in ("utf-8", "utf-8-sig")
        and _decodes(pieces, said)
        and not (_single_byte(said) and _reads_as_chinese(pieces))
    )
    if trusted:
        assert said is not None  # trusted only when the declared codec is known
        return TextEncoding(said, f"the text bears out the declared {declared}", declared)
    if _decodes(pieces, "gb18030"):
        why = "the text is not valid UTF-8"
        if declared:
            why += f" although the file declares {declared}"
        return TextEncoding("gb18030", why, declared)
    raise UnicodeDecodeError("gb18030", pieces[0], 0, 1, "neither UTF-8 nor GBK/GB18030 text")


def decode_text(
    data: bytes, *, encoding: str | None = None, declared: str | None = None, source: object = ""
) -> tuple[str, TextEncoding]:
    """Decode a whole text file (TXT, CSV): a BOM first, then :func:`choose_encoding`.

    Raises
    ------
    InputFileError
        The text is not in the encoding given, or in none landgis knows;
        the message names the file and the fix.
    """
    try:
        for bom, name in _BOMS:
            if not encoding and data.startswith(bom):
                chosen = TextEncoding(name, "byte-order mark", declared)
                break
        else:
            chosen = choose_encoding([data], declared=declared, given=encoding)
        return data.decode(chosen.name), chosen
    except LookupError as exc:
        raise InputFileError(f"{source}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{source}: is not text in {encoding or 'UTF-8 or GBK'} (byte {exc.start}); pass "
            "the file's real encoding with encoding=… (CLI: --encoding), e.g. 'gbk' or 'utf-8'."
        ) from exc


def dbf_encoding(path: str | Path, *, given: str | None = None) -> TextEncoding | None:
    """The encoding of a Shapefile's attributes, judged from the DBF's text only.

    ``path`` is the ``.shp`` (or ``.dbf``), or a GDAL ``zip://archive.zip!member.shp``
    path.  ``None`` when there is no DBF beside it.  The ``.cpg`` beside it (if any)
    is the declaration.
    """
    dbf, cpg = _shapefile_parts(str(path))
    if dbf is None:
        return None
    declared = cpg.decode("ascii", "replace").strip() or None if cpg is not None else None
    if given:
        return choose_encoding([], declared=declared, given=given)
    return choose_encoding(_dbf_text(dbf), declared=declared)


def recode_latin1(text: str, encoding: str) -> str:
    """Text that was decoded as Latin-1 (byte for byte), decoded again as ``encoding``.

    A character cut in half at the end (a DBF field name or value cut at its
    byte width, which GDAL does to UTF-8 text) is dropped; any other byte the
    encoding cannot read becomes U+FFFD.

    >>> recode_latin1("宗地代码".encode("utf-8")[:10].decode("latin-1"), "utf-8")
    '宗地代'
    """
    data = text.encode("latin-1")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return data[: exc.start].decode(encoding, errors="replace")
        return data.decode(encoding, errors="replace")


def _shapefile_parts(path: str) -> tuple[np.ndarray | None, bytes | None]:
    """The DBF (as bytes, mapped when on disk) and the ``.cpg`` text of a Shapefile."""
    if path.startswith("zip://") and "!" in path:
        import zipfile

        archive, member = path[len("zip://") :].split("!", 1)
        stem = member.rsplit(".", 1)[0].lstrip("/")
        with zipfile.ZipFile(archive) as zf:
            by_lower = {n.lower(): n for n in zf.namelist()}
            dbf_name = by_lower.get(f"{stem}.dbf".lower())
            cpg_name = by_lower.get(f"{stem}.cpg".lower())
            return (
                np.frombuffer(zf.read(dbf_name), dtype=np.uint8) if dbf_name else None,
                zf.read(cpg_name) if cpg_name else None,
            )
    file = Path(path)
    dbf_path, cpg_path = _sibling(file, ".dbf"), _sibling(file, ".cpg")
    if dbf_path is None:
        return None, None
    size = dbf_path.stat().st_size
    dbf = np.memmap(dbf_path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    return dbf, cpg_path.read_bytes() if cpg_path else None


def _dbf_text(raw: np.ndarray) -> list[bytes]:
    """Field names and the non-ASCII character values of a dBASE file."""
    if len(raw) < 32:
        return []
    records = int.from_bytes(raw[4:8].tobytes(), "little")
    header = int.from_bytes(raw[8:10].tobytes(), "little")
    width = int.from_bytes(raw[10:12].tobytes(), "little")
    names: list[bytes] = []
    fields: list[tuple[int, int]] = []  # (offset in the record, width) of character fields
    offset = 1  # byte 0 of a record is the deletion flag
    for start in range(32, min(header, len(raw)) - 31, 32):
        if raw[start] == 0x0D:
            break
        desc = raw[start : start + 32].tobytes()
        names.append(desc[:11].split(b"\0")[0])
        size = desc[16]
        if desc[11:12] == b"C":
            size += desc[17] << 8  # long character fields keep the high byte here
            fields.append((offset, size))
        offset += size
    out = [n for n in names if not n.isascii()]
    if width <= 0 or not fields:
        return out
    count = min(records, max(0, (len(raw) - header) // width))
    table = raw[header : header + count * width].reshape(count, width)
    for start, size in fields:
        column = table[:, start : start + size]
        for row in np.flatnonzero((column >= 0x80).any(axis=1)):
            out.append(column[row].tobytes().rstrip(b" \0"))
    return out


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def _codec(name: str | None) -> str | None:
    """A declared name (``936``, ``ANSI_936``, ``UTF8``, ``GBK``) as a Python codec name."""
    if not name:
        return None
    text = str(name).strip().strip("\0")
    text = re.sub(r"(?i)^(ansi|cp|windows|codepage)[\s_-]*(\d+)$", r"cp\2", text)
    if text.isdigit():
        text = f"cp{text}"
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def _is_utf8(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A value cut at its field width may end inside a character, after
        # whole ones that show it is UTF-8 ("Caf\xe9" in Latin-1 shows nothing).
        cut = exc.reason == "unexpected end of data" and exc.end == len(piece)
        return cut and not piece[: exc.start].isascii()
    return True


def _decodes(pieces: list[bytes], name: str) -> bool:
    try:
        for piece in pieces:
            piece.decode(name)
    except UnicodeDecodeError:
        return False
    return True


def _single_byte(name: str) -> bool:
    """Every high byte is a character of its own (Latin-1, 1252 …), so any bytes decode."""
    return len(bytes(range(0x80, 0x100)).decode(name, errors="replace")) == 128


def _reads_as_chinese(pieces: list[bytes]) -> bool:
    """Most non-ASCII characters of the GB18030 reading are Chinese."""
    try:
        text = "".join(p.decode("gb18030") for p in pieces)
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F]
    return bool(wide) and len(_CJK.findall(text)) >= 0.8 * len(wide)

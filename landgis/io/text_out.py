"""Text from the input files, made fit for each output's grammar: one rule for every writer.

Names, streets and notes come from files landgis does not control.  Some characters
in them cannot be held by the formats landgis writes: XML 1.0 (KML in the KMZ, QGIS
styles, every ``.xlsx`` part) forbids the C0 control characters except tab, line feed
and carriage return, and the non-characters U+FFFE and U+FFFF; Excel and CSV
readers stop at NUL; a terminal runs ESC sequences and bidirectional overrides.

The rule, the same for every output:

- **files** (KML/KMZ, QML, xlsx, CSV, HTML, PNG titles): the C0 controls other than
  tab, line feed and carriage return, DEL, the C1 controls (U+0080–U+009F), lone
  surrogates and the Unicode non-characters (U+FDD0–U+FDEF and U+xFFFE, U+xFFFF in
  every plane) are written as U+FFFD ``�`` — visibly, never dropped;
- **the terminal** additionally replaces carriage return and the bidirectional
  embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069), which
  rearrange what a terminal shows; rich markup in data is escaped by the callers
  (``[bold]`` is text);
- **file names** keep letters and digits only (:func:`landgis.io.paths.safe_filename`),
  cut by UTF-8 bytes.

Every replacement is counted in the active :func:`counting` tally: the CLI reports
the count (characters, outputs, code points, the first values concerned) as a
warning, and ``landgis audit`` keeps it in ``summary.json`` (``warnings`` and
``replaced_characters``).  Called outside any tally (the Python API), a writer
wrapped in :func:`counted` warns with a :class:`~landgis.errors.LandgisWarning`.
The GeoPackage, GeoJSON and Shapefile keep the text exactly (they have no such
grammar): the audit's data of record is never changed.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "REPLACEMENT",
    "UNHOLDABLE",
    "UNSHOWABLE",
    "Replacements",
    "clean_frame",
    "clean_text",
    "clean_tree",
    "counted",
    "counting",
    "cut_bytes",
    "replacements",
    "terminal_text",
]

#: What stands for a character an output cannot hold.
REPLACEMENT = "\ufffd"

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_FILE_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARACTERS
#: Characters no output file holds (see the module's rule).
UNHOLDABLE = re.compile(f"[{_FILE_CLASS}]")
#: Characters the terminal is not given.
UNSHOWABLE = re.compile(f"[{_FILE_CLASS}\r\u202a-\u202e\u2066-\u2069]")

_EXAMPLES = 3


@dataclass
class Replacements:
    """What was replaced while writing: characters per output, code points, examples.

    Attributes
    ----------
    count
        Characters replaced.
    outputs
        Output kind (``"xlsx"``, ``"KML"``, ``"CSV"``, ``"HTML"``, ``"terminal"`` …)
        → characters replaced in it.
    code_points
        ``"U+0001"`` … → times replaced.
    examples
        The shortest few original values, so a user can find them.
    files
        Notes on file names that were cut or took a suffix.
    """

    count: int = 0
    outputs: Counter = field(default_factory=Counter)
    code_points: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.count or self.files)

    def add(self, original: str, found: list[str], where: str) -> None:
        self.count += len(found)
        self.outputs[where or "text"] += len(found)
        self.code_points.update(f"U+{ord(c):04X}" for c in found)
        self._example(original)

    def _example(self, original: str) -> None:
        """Keep the shortest values seen: they are the data, not text built around it."""
        if original in self.examples:
            return
        self.examples.append(original)
        self.examples.sort(key=len)
        del self.examples[_EXAMPLES:]

    def note_file(self, message: str) -> None:
        if message not in self.files:
            self.files.append(message)

    def merge(self, other: Replacements) -> None:
        self.count += other.count
        self.outputs.update(other.outputs)
        self.code_points.update(other.code_points)
        for example in other.examples:
            self._example(example)
        for note in other.files:
            self.note_file(note)

    def messages(self) -> list[str]:
        """The warnings to show (empty when nothing was replaced)."""
        out = []
        if self.count:
            where = ", ".join(f"{k} ({v})" for k, v in sorted(self.outputs.items()))
            points = ", ".join(f"{k} ×{v}" for k, v in sorted(self.code_points.items())[:8])
            more = " …" if len(self.code_points) > 8 else ""
            out.append(
                f"{self.count} character(s) that the output cannot hold (control or "
                f"non-characters: {points}{more}) were written as '{REPLACEMENT}' (U+FFFD) in "
                f"{where}, in values such as {', '.join(_show(e) for e in self.examples)}. "
                "The GeoPackage keeps the text as read; correct it at the source."
            )
        if self.files:
            out.append("file names: " + "; ".join(self.files))
        return out

    def as_dict(self) -> dict:
        """For ``summary.json``."""
        return {
            "count": self.count,
            "outputs": dict(sorted(self.outputs.items())),
            "code_points": dict(sorted(self.code_points.items())),
            "examples": [_show(e) for e in self.examples],
            "files": list(self.files),
        }

    def take(self) -> list[str]:
        """The messages, and forget them (they have been reported)."""
        out = self.messages()
        self.count = 0
        self.outputs.clear()
        self.code_points.clear()
        self.examples.clear()
        self.files.clear()
        return out


_ACTIVE: contextvars.ContextVar[Replacements | None] = contextvars.ContextVar(
    "landgis_replacements", default=None
)


def replacements() -> Replacements | None:
    """The tally of the innermost :func:`counting` block, or ``None``."""
    return _ACTIVE.get()


@contextlib.contextmanager
def counting(*, warn: bool = False) -> Iterator[Replacements]:
    """Count the replacements made inside the block.

    Parameters
    ----------
    warn
        When this is the outermost block and something was replaced, warn with
        a :class:`~landgis.errors.LandgisWarning` on the way out.  Inner blocks
        add their tally to the enclosing one.

    Examples
    --------
    >>> with counting() as tally:
    ...     clean_text("城东\\x01街道", where="KML")
    '城东�街道'
    >>> tally.count, dict(tally.outputs)
    (1, {'KML': 1})
    """
    parent = _ACTIVE.get()
    tally = Replacements()
    token = _ACTIVE.set(tally)
    try:
        yield tally
    finally:
        _ACTIVE.reset(token)
        if parent is not None:
            parent.merge(tally)
        elif warn and tally:
            from landgis.errors import LandgisWarning

            for message in tally.messages():
                warnings.warn(message, LandgisWarning, stacklevel=4)


def counted(func):
    """Run a writer inside :func:`counting` (``warn=True``): its replacements are
    counted by the caller's tally, or warned about when there is none."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with counting(warn=True):
            return func(*args, **kwargs)

    return wrapper


def clean_text(value, *, where: str = "", terminal: bool = False):
    """``value`` with the characters its output cannot hold replaced by U+FFFD, counted.

    Parameters
    ----------
    value
        Text; anything else is returned unchanged.
    where
        The output kind, for the count (``"xlsx"``, ``"KML"`` …).
    terminal
        Apply the terminal's rule (also carriage return and bidirectional controls).

    Examples
    --------
    >>> clean_text("城东\\ufffe街道")
    '城东�街道'
    >>> clean_text("第一行\\n第二行\\t备注")
    '第一行\\n第二行\\t备注'
    >>> clean_text("\\x1b[31m红\\x1b[0m", terminal=True)
    '�[31m红�[0m'
    """
    if not isinstance(value, str):
        return value
    pattern = UNSHOWABLE if terminal else UNHOLDABLE
    found = pattern.findall(value)
    if not found:
        return value
    tally = _ACTIVE.get()
    if tally is not None:
        tally.add(value, found, "terminal" if terminal and not where else where)
    return pattern.sub(REPLACEMENT, value)


def terminal_text(value) -> str:
    """Any value as text for the terminal (see :func:`clean_text`; markup not escaped)."""
    return clean_text("" if value is None else str(value), terminal=True)


def clean_tree(root, *, where: str = "XML"):
    """Clean every text, tail and attribute value of an ElementTree in place.

    One pass over the finished tree, so nothing a builder added escapes it.
    Returns ``root``.
    """
    for element in root.iter():
        if element.text:
            element.text = clean_text(element.text, where=where)
        if element.tail:
            element.tail = clean_text(element.tail, where=where)
        if element.attrib and any(UNHOLDABLE.search(v) for v in element.attrib.values()):
            for key, val in list(element.attrib.items()):
                element.attrib[key] = clean_text(val, where=where)
    return root


def clean_frame(df, *, where: str = ""):
    """Text cells and headers of a DataFrame cleaned (a copy when anything changes).

    Only the cells that hold such characters are touched.
    """
    import pandas as pd

    changed = None
    for col in df.columns:
        values = df[col]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        if not UNHOLDABLE.search("\n".join(map(str, values.tolist()))):
            continue  # the usual case, at C speed
        bad = values.map(_holds_unholdable).astype(bool)
        if changed is None:
            changed = df.copy()
        changed.loc[bad, col] = [clean_text(v, where=where) for v in values[bad]]
    headers = [clean_text(c, where=where) if isinstance(c, str) else c for c in df.columns]
    if headers != list(df.columns):
        changed = (changed if changed is not None else df.copy()).set_axis(headers, axis=1)
    return df if changed is None else changed


def _holds_unholdable(value) -> bool:
    return isinstance(value, str) and UNHOLDABLE.search(value) is not None


def cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary.

    Examples
    --------
    >>> cut_bytes("京泰路街道", 7)
    '京泰'
    """
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _show(value: str, limit: int = 40) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)

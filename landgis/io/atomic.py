"""Write files so that a reader never sees half of one.

Each output is written under a hidden temporary name in the same directory
(``.<name>.<random>.tmp<suffix>``, the name part cut so that the whole fits in
255 bytes) and renamed over the target only when complete: an interrupted run
(Ctrl-C, SIGTERM, a full disk) leaves the previous file intact and removes its
temporary file.  A process killed outright (SIGKILL, power loss) cannot clean
up; its leftover is removed by the next write of the same file once it is a
minute old.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]

#: Longest file name, in bytes, on the file systems landgis writes to (ext4, APFS, NTFS).
NAME_MAX = 255
_TOKEN = 12  # hex digits of the random part


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text()
    'done'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    # Only a name: writers such as GDAL want to create the file themselves, and a
    # file made here before the ``try`` would be left behind by a signal arriving
    # in between.  Keep the suffix: GDAL picks and checks formats by it.
    token = secrets.token_hex(_TOKEN // 2)
    tmp = target.parent / f".{_temp_stem(target)}.{token}.tmp{target.suffix}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, *tmp.parent.glob(glob.escape(tmp.stem) + ".*")):
            leftover.unlink(missing_ok=True)  # a Shapefile's side files too


def _remove_stale(target: Path, age: float = 60.0) -> None:
    """Temporary files of ``target`` left by a killed run (older than ``age`` s)."""
    now = time.time()
    pattern = f".{glob.escape(_temp_stem(target))}.*.tmp{glob.escape(target.suffix)}"
    for leftover in target.parent.glob(pattern):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > age:
                leftover.unlink()


def _temp_stem(target: Path) -> str:
    """The target's stem, cut so that its temporary name fits in :data:`NAME_MAX` bytes.

    A name that fits (255 bytes) may not fit with the 19 bytes a temporary name
    adds; and a Shapefile's side files (``.shp.xml``) need a few more.
    """
    from landgis.io.text_out import cut_bytes

    extra = len(f"..{'0' * _TOKEN}.tmp{target.suffix}.xml".encode())
    return cut_bytes(target.stem, max(1, NAME_MAX - extra))

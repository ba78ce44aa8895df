"""Write files so that a reader never sees half of one.

Each output is written under a hidden temporary name in the same directory
(``.<name>.<random>.tmp<suffix>``) and renamed over the target only when
complete: an interrupted run (Ctrl-C, SIGTERM, a full disk) leaves the previous
file intact and removes its temporary file.  A process killed outright
(SIGKILL, power loss) cannot clean up; its leftover is removed by the next
write of the same file once it is a minute old.
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
    tmp = target.parent / f".{target.stem}.{secrets.token_hex(6)}.tmp{target.suffix}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, *tmp.parent.glob(glob.escape(tmp.stem) + ".*")):
            leftover.unlink(missing_ok=True)  # a Shapefile's side files too


def _remove_stale(target: Path, age: float = 60.0) -> None:
    """Temporary files of ``target`` left by a killed run (older than ``age`` s)."""
    now = time.time()
    pattern = f".{glob.escape(target.stem)}.*.tmp{glob.escape(target.suffix)}"
    for leftover in target.parent.glob(pattern):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > age:
                leftover.unlink()

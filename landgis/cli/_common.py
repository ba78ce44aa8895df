"""What every command shares: errors as messages and exit codes, interrupts,
progress bars, and text on the terminal that is never markup.

Exit codes: 0 success, 2 bad input or usage (the message names the file and
the fix; no traceback), 130 interrupted (Ctrl-C or SIGTERM; every output is
either the previous one or complete), 1 out of memory or an internal error.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from landgis.errors import LandgisError
from landgis.io.text_out import counting, terminal_text

__all__ = ["STAGES", "err", "handled", "int_list", "say", "stage_bar", "warn"]

STAGES = 8  # reading, 5 engine stages, building findings, writing

err = Console(stderr=True)

#: The stage a running audit is in (set from its progress calls, which may come
#: from the engine's worker thread); named when the run is interrupted.
STAGE: dict[str, str | None] = {"now": None}


@contextmanager
def handled():
    """Errors a user can act on, as a message and an exit code, never a traceback.

    landgis' own errors and files that cannot be read or written exit with 2;
    Ctrl-C or SIGTERM with 130, after the writer in progress has removed its
    temporary file (every output is either the previous one or complete);
    running out of memory with 1.
    """
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if main_thread else None
    STAGE["now"] = None
    try:
        with counting() as tally:
            yield
        for message in tally.take():  # characters an output could not hold
            warn(message)
    except (LandgisError, OSError) as exc:
        err.print(
            f"[bold red]error:[/] {escape(terminal_text(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except KeyboardInterrupt:
        # The engine runs on a worker thread (landgis.engine.ops.abandonable), so
        # this arrives at once even in a long GEOS call; the worker dies with us.
        where = f" while {STAGE['now']}" if STAGE["now"] else ""
        err.print(
            f"[bold red]interrupted{escape(where)}:[/] every output file is either the "
            "previous one or complete; none is half-written.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(130)
    except MemoryError:
        err.print(
            "[bold red]error:[/] not enough memory for these layers; run with "
            "--threads 1, or audit the zone street by street.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)



def warn(message: str) -> None:
    """A warning on stderr: data in it is text (no markup, no terminal controls)."""
    err.print(
        f"[yellow]warning:[/] {escape(terminal_text(message))}", highlight=False, soft_wrap=True
    )


def say(text, *, console: Console | None = None) -> None:
    """A line on stdout, as text: no markup, no terminal controls from the data."""
    (console or Console()).print(terminal_text(text), highlight=False, markup=False)



def interrupt(signum, frame):
    """SIGTERM as Ctrl-C, so that writers clean up on the way out."""
    raise KeyboardInterrupt



@dataclass(frozen=True)
class _Stages:
    """The progress callback :func:`stage_bar` yields: called with each stage's
    name, and ``.partition`` called with each tile of a partitioned audit."""

    stage: Callable[[str], None]
    partition: Callable[[Any], None]

    def __call__(self, stage: str) -> None:
        self.stage(stage)


@contextmanager
def stage_bar(quiet: bool, stages: int = STAGES):
    """A bar over the stages of a run (and one over the tiles of a partitioned
    one); yields the callback the library calls with each stage's name."""
    if quiet:

        def silent(stage: str) -> None:
            STAGE["now"] = stage

        yield _Stages(silent, lambda event: None)
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=stages)

        def step(stage: str) -> None:
            if stage.startswith("Dask dashboard"):
                bar.console.print(stage, highlight=False, markup=False)  # a link to keep
                return
            STAGE["now"] = stage
            bar.update(task, description=stage, advance=0 if stage == "reading layers" else 1)

        tiles = None

        def partition(event) -> None:
            """One bar for the tiles of a partitioned audit (landgis.scale)."""
            nonlocal tiles
            if tiles is None:
                tiles = bar.add_task("tiles", total=event.total)
            bar.update(
                tiles,
                completed=event.done,
                description=f"tile {event.tile} · {event.footprints:,} footprints · "
                f"{escape(str(event.worker))}",
            )

        yield _Stages(step, partition)
        bar.update(task, completed=stages)




def int_list(value: str | None, option: str) -> list[int] | None:
    """``"1,2"`` → ``[1, 2]`` for an option of pixel values."""
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give whole pixel values separated by commas, e.g. 50 or 1,2",
            param_hint=option,
        ) from None

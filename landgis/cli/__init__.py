"""The ``landgis`` command: a group of thin commands over the Python API.

Each command parses its options and calls one library function; what every
command shares (errors as messages and exit codes, interrupts, progress bars,
text on the terminal) is in :mod:`landgis.cli._common`.  Exit codes: 0 success,
2 bad input or usage (the message names the file and the fix; no traceback),
130 interrupted, 1 an unexpected internal error.
"""

from __future__ import annotations

import click

from landgis._version import __version__
from landgis.cli.audit import audit, demo
from landgis.cli.change import change
from landgis.cli.convert import convert
from landgis.cli.maps import fieldkit, map_command, report
from landgis.cli.monitor import diff, ledger, progress

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="landgis")
def main() -> None:
    """landgis — land-resource verification and red-line violation detection (土地资源核查处置).

    Overlay the red lines of requisitioned and leased parcels on surveyed actual
    use, and write the findings for enforcement (CSV), GIS (GeoPackage) and the
    coordination group (summaries).  Run `landgis demo` to see it on the sample park.
    """


for command in (audit, demo, map_command, report, fieldkit, change, convert, diff, ledger,
                progress):  # fmt: skip
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()

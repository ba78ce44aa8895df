"""``python -m landgis.cli``: the landgis command."""

from landgis.cli import main

main(prog_name="landgis")

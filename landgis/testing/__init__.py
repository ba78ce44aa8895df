"""Generated data for tests and benchmarks (not needed to audit anything).

:mod:`landgis.testing.synthetic` makes parks of any size shaped like real ones.
"""

"""Benchmarks: measured speed and quota efficiency, all on loopback (`python -m bench`).

Each module is runnable alone (`python -m bench.cold_start`) and exposes
`run(quick: bool = False) -> list[Figure]`. `python -m bench` runs them all, prints
one summary line per figure and rewrites `bench/RESULTS.md`.
"""

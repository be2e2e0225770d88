"""Measurements of the project, grouped by kind: performance/ (speed and memory), experiments/ (the quality of the
model and of unlearning), calibration/ (hand-set constants measured on real motion); all.py runs the performance
table of docs/performance.md.

Every script runs from the repository root as a module, `python -m benchmarks.<kind>.<name> --help`: the package
`motion_lora` comes from the editable install (requirements-dev.txt) and scripts import each other as
`benchmarks.<kind>.<name>`, so none edits sys.path.
"""

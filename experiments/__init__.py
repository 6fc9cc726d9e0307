"""Experiment configs, one file per experiment or paper figure (shipped as ganjax.experiments).

Each file's docstring starts with a one-line summary and shows every variant as a line
`ganjax train --config experiments/NAME.py[:VARIANT]  # what it is (~time, CPUs)`; `ganjax list`
prints those lines (the time only where one is stated in `(~...)`). Files starting with `_` are
shared helpers, not experiments.
"""

"""Sweeps: many runs of one experiment, as few compiled programs as their structure allows.

`ganjax.config.sweep_space` builds points (override dicts; experiment files use it beside
`get_config`), `points` validates and names them, `grouping` finds the
points that share a program, `vectorized` and `group` train a group as one vmapped program with
a run folder per point, `driver` runs a sweep here, `launchers` elsewhere (local processes,
SLURM through submitit, emitted command lines), and `results` writes the tables and figures.
"""

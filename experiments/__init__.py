"""Experiment configs, one file per experiment or paper figure (shipped as ganjax.experiments)."""

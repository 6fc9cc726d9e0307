"""The engine: state, algorithms, objectives, losses, penalties, optimizers, PRNG streams.

Pure functions of arrays; imports nothing from the run, output or CLI layers.
"""

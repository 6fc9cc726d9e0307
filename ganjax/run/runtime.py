"""Process-wide JAX settings the CLI applies before anything is compiled."""

from __future__ import annotations

import os
import sys

DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "ganjax", "jax")

# XLA:CPU's YNNPACK fusion slows the small dense GEMMs of GAN steps; benchmarks/toy_step.py
# measures the difference. The flag only exists (and only matters) on the CPU backend.
_YNN_OFF_FLAG = "--xla_cpu_experimental_ynn_fusion_type="


def set_xla_cpu_fusion(ynn_fusion: bool) -> None:
    """Turns XLA:CPU's YNNPACK fusion off (ganjax's default) or leaves XLA's default.

    Must run before JAX creates its CPU backend, i.e. before the first computation.
    """
    if ynn_fusion:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_experimental_ynn_fusion_type" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_YNN_OFF_FLAG}".strip()
    if "jax" in sys.modules:
        import jax

        if jax._src.xla_bridge.backends_are_initialized():  # noqa: SLF001
            print("ganjax: warning: JAX was initialised before XLA flags were set; "
                  "--xla_cpu_ynn_fusion has no effect", file=sys.stderr)


def enable_compilation_cache(cache_dir: str | None) -> None:
    """Persists compiled programs under `cache_dir` so that re-runs and resumes start fast."""
    if not cache_dir:
        return
    import jax

    os.makedirs(cache_dir, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    # Cache even quick compiles: a toy step compiles in well under the default 1 s threshold.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

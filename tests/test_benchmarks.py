"""The benchmark scripts still run against today's library, at their smallest settings.

The benchmarks are not timed here (timings belong to their own runs, side by side on one
machine); these runs catch a script that no longer imports or calls the library as it is (as
scaling.py did after engine v2) and check that each prints its final JSON line with sane
fields. Left out, to keep the suite short: model_family.py (it trains every model-family
experiment on MNIST) and toy_step.py (five child processes; its timing helpers are the ones
dcgan_step.py uses).
"""

from __future__ import annotations

import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")


sys.path.insert(0, BENCHMARKS)
from _timing import run_child  # noqa: E402  (the benchmarks' own way to run a script)


def final_json(tmp_path, script: str, *args: str) -> dict:
    """Runs benchmarks/`script` with `args` (in `tmp_path`) and returns its last line as JSON;
    a failing script raises with its own error."""
    return run_child(os.path.join(BENCHMARKS, script), list(args), timeout_s=600,
                     cwd=str(tmp_path))


def positive(value) -> bool:
    return isinstance(value, (int, float)) and value > 0


def test_hlo_ops_counts_the_compiled_step(tmp_path):
    out = final_json(tmp_path, "hlo_ops.py", "ring8")
    counts = out["ring8"]
    assert counts["ops"] > counts["fusions"] > 0
    assert counts["dots"] >= 12  # 3 dense layers per network, forward and backward, D and G


def test_scaling_times_every_device_count(tmp_path):
    out = final_json(tmp_path, "scaling.py", "--steps", "2", "--rounds", "1",
                     "--devices", "1,2")
    assert out["platform"] == "cpu" and out["steps"] == 2
    for model in ("ring8", "dcgan_digits"):
        assert sorted(out["results"][model]) == ["1", "2"]
        for row in out["results"][model].values():
            assert positive(row["steps_per_s"])
            assert row["examples_per_s"] == pytest.approx(row["steps_per_s"]
                                                          * row["global_batch"], rel=1e-3)


def test_dcgan_step_compares_ganjax_with_torch(tmp_path):
    out = final_json(tmp_path, "dcgan_step.py", "--rounds", "1", "--chunk", "1", "--skip_ynn")
    assert positive(out["ganjax_steps_per_s"]) and positive(out["torch_steps_per_s"])
    assert positive(out["gflop_per_step"]) and positive(out["fast_over_plain_convs"])


def test_vectorized_sweep_rates_in_process(tmp_path):
    out = final_json(tmp_path, "vectorized_sweep.py", "--chunk", "5", "--rounds", "1",
                     "--skip_32", "--skip_end_to_end")
    for model in ("ring8", "gaussian1d"):
        ratio = out[f"{model}_ratio_8"]
        assert ratio == pytest.approx(out[f"{model}_model_steps_per_s_8"]
                                      / out[f"{model}_lone_steps_per_s_8"], rel=0.05)

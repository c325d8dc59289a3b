"""Drift: compares the service's logged inputs and scores with the training reference.

Public: `run_drift` (the command's work) and the policy it takes, `DriftPolicy` from
`load_policy`. The modules, one job each: policy (params.yaml `drift`), reference (columns,
kinds, fixed bins), logs (files and the streaming reader), arrow (its fast path), chunk (what
it yields), stats (PSI, bins, samples, tests), compare (counting and the verdict), report
(drift.json, drift.md), plots (one PNG per drifted column), command (the CLI). Heavy imports
(pandas, pyarrow, scipy, matplotlib) wait until a comparison runs.
"""

from mlgitops.drift.command import run_drift
from mlgitops.drift.policy import DriftPolicy, load_policy

__all__ = ["DriftPolicy", "load_policy", "run_drift"]

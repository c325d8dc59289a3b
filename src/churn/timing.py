"""Where a stage's time goes: start-up and imports, reading, the work itself, writing.

Each stage prints one `timings:` line at the end; `benchmarks/pipeline.py` reads it from the
output of `dvc repro`, and a person sees at a glance what was slow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

logger = logging.getLogger(__name__)


class StageTimer:
    """Wall-clock seconds per phase of one stage process, counted from the process's start."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        # Everything before this line (interpreter start-up and imports) counts as start-up.
        self.seconds: dict[str, float] = {"startup": time.time() - psutil.Process().create_time()}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def report(self) -> None:
        parts = " ".join(f"{name}={seconds:.2f}s" for name, seconds in self.seconds.items())
        logger.info("timings: stage=%s %s", self.stage, parts)

"""Where a stage's time goes: start-up and imports, reading, the work itself, writing.

Each stage prints one `timings:` line at the end; `benchmarks/pipeline.py` reads it from the
output of `dvc repro`, and a person sees at a glance what was slow.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


def process_age(pid: int | str = "self") -> float:
    """Seconds since the process started, to within a clock tick (10 ms on Linux).

    Linux gives the start in clock ticks since boot, so it is compared with the boot-time clock.
    psutil's create_time() adds the boot time, which /proc/stat rounds to whole seconds: against
    time.time() that is off by up to a second, more than a stage's real start-up.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # Fields after the command name (which may hold spaces); starttime is field 22.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):  # not Linux
        import psutil

        process = psutil.Process() if pid == "self" else psutil.Process(int(pid))
        return time.time() - process.create_time()


class StageTimer:
    """Wall-clock seconds per phase of one stage process, counted from the process's start.

    Phases may nest: a `read` inside `work` counts as read, and only the rest as work, so the
    phases always add up to the time they cover.
    """

    def __init__(self, stage: str) -> None:
        self.stage = stage
        # Everything before this line (interpreter start-up and imports) counts as start-up.
        self.seconds: dict[str, float] = {"startup": process_age()}
        self._nested: list[float] = []  # per open phase: seconds its inner phases took

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        self._nested.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            inner = self._nested.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - inner
            if self._nested:
                self._nested[-1] += elapsed

    def report(self) -> None:
        parts = " ".join(f"{name}={seconds:.2f}s" for name, seconds in self.seconds.items())
        logger.info("timings: stage=%s %s", self.stage, parts)

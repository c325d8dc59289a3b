"""SIGTERM handled like SIGINT, for commands that must say what they leave behind.

GitHub cancels a job with SIGINT, then SIGTERM after a grace period; a container runtime or a
shell's `kill` sends SIGTERM alone. Python turns only SIGINT into KeyboardInterrupt, so a
command that names what goes on without it (`mlgitops deploy`: the Argo run) wraps that part in
`sigterm_as_interrupt()` and handles both in its `except KeyboardInterrupt`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt; the previous handler comes back after.

    A SIGTERM the process was started with ignored stays ignored (as Python does for SIGINT),
    and outside the main thread, where Python cannot set handlers, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

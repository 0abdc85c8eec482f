"""The engine seam without Spark: choosing an engine, its options, the local engine and its aggregates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.engines import get_engine
from hmrec.engines.local import LocalEngine
from hmrec.engines.spark.models import score_partition
from hmrec.engines.spark.ranker import rows_on_executors
from hmrec.engines.spark.session import broadcast, parse_conf
from hmrec.errors import ParameterError
from hmrec.models.base import top_k
from hmrec.models.sales import article_sales, recent_articles
from hmrec.registry import create


def test_unknown_engine_is_one_line() -> None:
    with pytest.raises(ParameterError, match="--engine must be one of local, spark, got 'dask'"):
        get_engine("dask")


def test_spark_options_need_the_spark_engine() -> None:
    with pytest.raises(ParameterError, match="--engine spark only"):
        get_engine("local", master="local[2]")


def test_spark_conf_is_key_value() -> None:
    assert parse_conf(["spark.executor.memory=8g", "a.b=x=y"]) == {"spark.executor.memory": "8g", "a.b": "x=y"}
    with pytest.raises(ParameterError, match="--spark-conf 'spark.executor.memory' is not KEY=VALUE"):
        parse_conf(["spark.executor.memory"])


class _Shared:
    def __init__(self, value: object, released: list[str], dead: bool) -> None:
        self.value, self._released, self._dead = value, released, dead

    def unpersist(self) -> None:
        if self._dead:
            raise RuntimeError("no SparkEnv")  # what pyspark raises once the context has stopped
        self._released.append("released")


class _Session:
    """Just enough of a SparkSession for :func:`broadcast`: its context's ``broadcast``."""

    def __init__(self, dead: bool) -> None:
        self.released: list[str] = []
        self.dead = dead
        self.sparkContext = self

    def broadcast(self, value: object) -> _Shared:
        return _Shared(value, self.released, self.dead)


def test_broadcast_is_released_and_keeps_the_first_error() -> None:
    session = _Session(dead=False)
    with broadcast(session, 3) as shared:  # type: ignore[arg-type]
        assert shared.value == 3
    assert session.released == ["released"]
    with pytest.raises(ValueError, match="the job failed"), broadcast(session, 3):  # type: ignore[arg-type]
        raise ValueError("the job failed")
    assert session.released == ["released", "released"]
    # the job's failure stopped the context: releasing fails too, and the job's error is the one raised
    with pytest.raises(ValueError, match="the job failed"), broadcast(_Session(dead=True), 3):  # type: ignore[arg-type]
        raise ValueError("the job failed")


def test_local_engine_fits_the_model_itself(tiny: Dataset) -> None:
    engine = get_engine("local")
    assert isinstance(engine, LocalEngine)
    customers = np.arange(50, dtype=np.int32)
    fitted = engine.fit(create("repurchase"), tiny)
    expected = create("repurchase").fit(tiny).recommend(customers, 12)
    np.testing.assert_array_equal(fitted.recommend(customers, 12)[0], expected[0])


def test_local_aggregates_by_hand() -> None:
    # what the Spark aggregates are compared with (tests/engines/test_spark.py), on a frame counted by hand:
    # on the last day c0 bought articles 1, 2, 2, c1 bought 1, 3 and c2 bought 3; a week before, c0 bought 1
    # and c2 bought 4
    tx = pl.DataFrame(
        {
            "t_dat": ["2020-09-20"] * 6 + ["2020-09-13"] * 2,
            "customer_id": ["c0", "c0", "c0", "c1", "c1", "c2", "c0", "c2"],
            "article_id": ["1", "2", "2", "1", "3", "3", "1", "4"],
            "price": [0.1] * 8,
            "sales_channel_id": [1] * 8,
        }
    )
    data = Dataset.from_frames(
        pl.DataFrame({"article_id": ["1", "2", "3", "4"]}),
        pl.DataFrame({"customer_id": ["c0", "c1", "c2"]}),
        tx,
    )
    # purchase rows per article: all time, the last 7 days, halved per 7 days of age
    np.testing.assert_array_equal(article_sales(data), [3, 2, 2, 1])
    np.testing.assert_array_equal(article_sales(data, days=7), [2, 2, 2, 0])
    np.testing.assert_array_equal(article_sales(data, half_life_days=7.0), [2.5, 2, 2, 0.5])
    # each customer's decayed purchase counts (purchase_weights on Spark)
    weights = data.interactions(half_life_days=7.0).toarray()
    np.testing.assert_array_equal(weights, [[1.5, 2, 0, 0], [1, 0, 1, 0], [0, 0, 1, 0.5]])
    recent = recent_articles(data, 1)
    assert recent is not None and recent.tolist() == [True, True, True, False]
    assert recent_articles(data, None) is None


def test_spark_als_scoring_is_the_full_product() -> None:
    """The executors' pruned scoring gives the top 12 of the whole product ``users @ items.T``."""
    rng = np.random.default_rng(0)
    candidates = np.sort(rng.choice(2000, size=700, replace=False)).astype(np.int32)
    items = rng.normal(size=(candidates.size, 16)).astype(np.float32) * rng.uniform(0.1, 3, (candidates.size, 1))
    users = rng.normal(size=(500, 16)).astype(np.float32)
    ids = np.arange(500, dtype=np.int32) * 3
    batches = [pd.DataFrame({"id": ids[lo : lo + 200], "features": list(users[lo : lo + 200])})
               for lo in range(0, 500, 200)] + [pd.DataFrame({"id": ids[:0], "features": []})]
    got = pd.concat(list(score_partition(iter(batches), items, candidates, 12)), ignore_index=True)
    cols, scores = top_k(users @ items.T, 12)
    np.testing.assert_array_equal(got["customer_idx"].to_numpy(), ids)
    np.testing.assert_array_equal(np.stack(got["ids"].to_numpy()), candidates[cols])
    np.testing.assert_allclose(np.stack(got["scores"].to_numpy()), scores, rtol=1e-5)


def test_spark_ranker_rows_need_a_writable_cache(tmp_path: Path) -> None:
    """Where the executors cannot leave their rows, one line naming the directory, before any Spark work."""
    truth = sp.csr_matrix((1, 5), dtype=np.float32)
    missing = tmp_path / "no-such-cache"
    with pytest.raises(ParameterError, match=f"cannot write its training rows in {missing}.*--cache"):
        rows_on_executors(
            None, create("ranker"), None, [np.array([0], dtype=np.int32)], truth, 1,  # type: ignore[arg-type]
            np.arange(3), False, missing,
        )

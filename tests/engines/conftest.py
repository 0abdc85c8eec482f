"""One local Spark session for the whole test session (starting a JVM costs tens of seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from spark_support import spark_missing


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[Any]:
    """The Spark engine on local[2], small shuffles, no UI: shared by every Spark test."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    from hmrec.engines import get_engine

    engine = get_engine(
        "spark",
        master="local[2]",
        conf={"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false", "spark.driver.memory": "1g"},
    )
    try:
        yield engine
    finally:
        engine.close()

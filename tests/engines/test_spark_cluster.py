"""A real Spark standalone cluster on this machine: a master and two workers on 127.0.0.1.

Started from pyspark's own installation (``bin/spark-class``), each in its own process group, and stopped in
a ``finally`` by killing those groups, so nothing is left running. ``hmrec evaluate`` and ``hmrec submit``
then run against ``spark://127.0.0.1:PORT`` and must give what the local engine gives.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from spark_support import spark_missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(spark_missing() is not None, reason=str(spark_missing())),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(1.0)
    raise TimeoutError(f"{what} did not come up in {timeout:.0f} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pyspark

    home = Path(pyspark.__file__).parent
    spark_class = str(home / "bin" / "spark-class")
    work = tmp_path_factory.mktemp("spark-cluster")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    port, ui = _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with open(work / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
            processes.append(
                subprocess.Popen(
                    [spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(ui))
        _wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "the master")
        for i in range(2):
            start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                  "--memory", "1g", "--webui-port", str(_free_port()), "--work-dir", str(work / f"worker{i}"), url)

        def two_workers() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as response:
                return int(json.load(response).get("aliveworkers", 0)) == 2

        _wait(two_workers, "two workers")
        yield url
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        assert all(process.poll() is not None for process in processes)


def _hmrec(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "hmrec", *args, "--quiet"], capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_evaluate_and_submit_on_a_standalone_cluster(cluster: str, tiny_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("articles.csv", "customers.csv", "transactions_train.csv"):
        shutil.copy2(tiny_dir / name, data / name)
    on_cluster = ["--engine", "spark", "--spark-master", cluster, "--spark-conf", "spark.executor.memory=768m",
                  "--spark-conf", "spark.ui.enabled=false"]
    models = "popularity,popularity-age,repurchase"
    _hmrec("ingest", "--data", str(data), *on_cluster)
    _hmrec("evaluate", "--data", str(data), "--models", models, "--out", str(tmp_path / "spark"), *on_cluster)
    _hmrec("evaluate", "--data", str(data), "--models", models, "--out", str(tmp_path / "local"))
    spark_board = json.loads((tmp_path / "spark" / "leaderboard.json").read_text())
    local_board = json.loads((tmp_path / "local" / "leaderboard.json").read_text())
    for spark_row, local_row in zip(spark_board["models"], local_board["models"], strict=True):
        assert spark_row["model"] == local_row["model"]
        assert abs(spark_row["map_at_k"] - local_row["map_at_k"]) <= 1e-9
    _hmrec("submit", "--data", str(data), "--model", "repurchase", "--out", str(tmp_path / "spark.csv"), *on_cluster)
    _hmrec("submit", "--data", str(data), "--model", "repurchase", "--out", str(tmp_path / "local.csv"))
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    # the ranker: trained on the driver, the fitted model broadcast to the two workers, which score
    fast = ["--param", "ranker.trees=20", "--param", "ranker.weeks=2", "--param", "ranker.history_weeks=8"]
    _hmrec("submit", "--data", str(data), "--model", "ranker", *fast, "--out", str(tmp_path / "rs.csv"), *on_cluster)
    _hmrec("submit", "--data", str(data), "--model", "ranker", *fast, "--out", str(tmp_path / "rl.csv"))
    assert (tmp_path / "rs.csv").read_bytes() == (tmp_path / "rl.csv").read_bytes()

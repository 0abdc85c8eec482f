"""The real commands: `hmrec train` writes a bundle, `hmrec serve` serves exactly what `hmrec submit` writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest


def hmrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("model", ["als", pytest.param("repurchase", marks=pytest.mark.slow)])
def test_served_recommendations_equal_the_submission(
    tiny_dir: Path, tmp_path: Path, model: str, serve_process: Any
) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    import httpx

    bundle = tmp_path / model
    params = ["--param", "als.iterations=3", "--param", "als.factors=8"] if model == "als" else []
    done = hmrec("train", "--data", str(tiny_dir), "--model", model, "--out", str(bundle), "--quiet", *params)
    assert done.returncode == 0, done.stderr
    assert (bundle / "bundle.json").is_file()
    sub = hmrec("submit", "--data", str(tiny_dir), "--model-dir", str(bundle), "--out", str(tmp_path / "s.csv"),
                "--quiet")
    assert sub.returncode == 0, sub.stderr
    submission = pl.read_csv(tmp_path / "s.csv", schema_overrides={"prediction": pl.String})
    customers = submission["customer_id"].to_list()
    with serve_process(bundle) as url:
        served: list[str] = []
        for lo in range(0, len(customers), 1000):
            response = httpx.post(f"{url}/v1/recommendations", json={"customer_ids": customers[lo : lo + 1000]},
                                  timeout=60)
            assert response.status_code == 200, response.text
            served += [" ".join(i["article_id"] for i in r["items"]) for r in response.json()["results"]]
        one = httpx.get(f"{url}/v1/customers/{customers[3]}/recommendations").json()
    expected = [p or "" for p in submission["prediction"].to_list()]
    assert served == expected
    assert " ".join(i["article_id"] for i in one["items"]) == expected[3]


def test_serve_refuses_a_damaged_bundle_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "bundle.json").write_text('{"bundle_format": 1, "hmrec_version": "0.0.0"}')
    done = hmrec("serve", "--model-dir", str(tmp_path / "b"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "bundle written by hmrec 0.0.0" in done.stderr
    done = hmrec("serve", "--model-dir", str(tmp_path / "missing"))
    assert done.returncode == 2 and "no such directory" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "edit",
    [{"sources": []}, {"customer_id_pattern": "("}, {"n_weeks": 10**12}, {"data_end": "2001-01-01"}],
    ids=["no-sources", "bad-pattern", "huge-n-weeks", "other-data-end"],
)
def test_serve_refuses_an_edited_bundle_json_in_one_line(bundles: Path, tmp_path: Path, edit: dict[str, Any]) -> None:
    """These edits loaded and then answered 500 on every request."""
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    target = tmp_path / "b"
    shutil.copytree(bundles / "popularity-decay", target)
    manifest = json.loads((target / "bundle.json").read_text())
    (target / "bundle.json").write_text(json.dumps({**manifest, **edit}))
    done = hmrec("serve", "--model-dir", str(target))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and f"'{next(iter(edit))}'" in done.stderr, done.stderr


def test_files_changed_under_a_running_service_change_nothing_served(
    bundles: Path, tmp_path: Path, serve_process: Any
) -> None:
    """Memory-mapped, a served file truncated in place killed the service (SIGBUS) and one rewritten in place
    served other rows: the service answers from what it read and checked when it loaded."""
    httpx = pytest.importorskip("httpx", reason="the serve extra is not installed")
    target = tmp_path / "b"
    shutil.copytree(bundles / "popularity-decay", target)
    customer = bytes(np.load(target / "serve" / "customer_ids.npy")[3]).decode()
    with serve_process(target) as url:
        paths = (f"/v1/customers/{customer}/recommendations", f"/v1/customers/{customer}", "/v1/models")
        before = [httpx.get(url + path).json() for path in paths]
        topk = target / "serve" / "topk_ids.npy"
        size = topk.stat().st_size
        with topk.open("r+b") as handle:  # other rows, in place
            handle.seek(size - 4 * 12 * 50)
            handle.write(np.full(12 * 50, 7, dtype=np.int32).tobytes())
        for name in ("customer_ids.npy", "customer_sorted.npy", "recent_indptr.npy", "topk_scores.npy"):
            with (target / "serve" / name).open("r+b") as handle:
                handle.truncate(0)
        after = [httpx.get(url + path) for path in paths]
        assert [r.status_code for r in after] == [200, 200, 200]
        assert [r.json() for r in after] == before
        assert httpx.get(f"{url}/health").status_code == 200


def test_a_reload_while_a_bundle_is_retrained_keeps_every_model(
    bundles: Path, tmp_path: Path, serve_process: Any
) -> None:
    """It answered {"reloaded": ["popularity-decay"]} and "unknown model" for the other until the next reload."""
    httpx = pytest.importorskip("httpx", reason="the serve extra is not installed")
    root = tmp_path / "models"
    shutil.copytree(bundles, root)
    customer = bytes(np.load(root / "als" / "serve" / "customer_ids.npy")[3]).decode()
    auth = {"authorization": "Bearer t0ken"}
    with serve_process(root, env={"HMREC_ADMIN_TOKEN": "t0ken"}) as url:
        served = httpx.get(f"{url}/v1/customers/{customer}/recommendations", params={"model": "als"}).json()
        manifest = (root / "als" / "bundle.json").read_bytes()
        (root / "als" / "bundle.json").unlink()  # what `hmrec train --out` does while it writes the new one
        response = httpx.post(f"{url}/admin/reload", headers=auth)
        assert response.status_code == 409, response.text
        assert "'als'" in response.json()["error"] and "still serving" in response.json()["error"]
        again = httpx.get(f"{url}/v1/customers/{customer}/recommendations", params={"model": "als"})
        assert again.status_code == 200 and again.json() == served
        (root / "als" / "bundle.json").write_bytes(manifest)
        shutil.copytree(root / "als", root / ".als.tmp-1")  # a train at work: hidden, never served
        response = httpx.post(f"{url}/admin/reload", headers=auth)
        assert response.status_code == 200 and response.json() == {"reloaded": ["als", "popularity-decay"]}


def test_serve_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None\n"
        "from hmrec.cli import app\n"
        f"app(['serve', '--model-dir', {str(tmp_path)!r}])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "pip install 'hmrec[serve]'" in done.stderr and "Traceback" not in done.stderr


def test_nothing_outside_serve_imports_fastapi() -> None:
    code = (
        "import sys, importlib, pkgutil, hmrec\n"
        "for m in pkgutil.walk_packages(hmrec.__path__, 'hmrec.'):\n"
        "    if not m.name.startswith(('hmrec.serve.app', 'hmrec.engines')):\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('fastapi', 'uvicorn', 'starlette')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_train_rejects_a_bad_serve_k_before_fitting(tiny_dir: Path, tmp_path: Path) -> None:
    done = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(tmp_path / "m"),
                 "--serve-k", "0")
    assert done.returncode == 2 and "--serve-k must be an integer in 1..100" in done.stderr
    assert not (tmp_path / "m").exists()


def test_serve_on_a_busy_port_says_so(bundles: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = hmrec("serve", "--model-dir", str(bundles / "als"), "--port", str(port))
    assert done.returncode == 2
    assert f"--port {port}: cannot listen there" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------------- bad input through the real server
@pytest.fixture(scope="module")
def live_url(bundles: Path, serve_process: Any) -> Any:
    """One real service (uvicorn in its own process) for the cases below: what its HTTP layer does with bad
    input before the app sees it is part of what they check."""
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    with serve_process(bundles) as url:
        yield url


@pytest.mark.parametrize(
    ("body", "field"),
    [(b'{"customer_ids":["\\ud800"]}', "customer_id"),
     (b'{"customer_ids":["' + b"a" * 64 + b'"],"model":"\\udfff"}', "model"),
     (b'{"customer_ids":["\xed\xa0\x80"]}', "customer_id")],
    ids=["escaped-surrogate-id", "escaped-surrogate-model", "encoded-surrogate"],
)
def test_a_lone_surrogate_in_a_batch_is_a_4xx(live_url: str, body: bytes, field: str) -> None:
    """A lone surrogate cannot be encoded back to UTF-8: it answered 500."""
    import httpx

    response = httpx.post(f"{live_url}/v1/recommendations", content=body,
                          headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    message = response.json()["error"]
    assert message.startswith(f"{field}:") and "\n" not in message, message


def _series(text: str) -> set[str]:
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_made_up_methods_add_no_metrics_series(live_url: str) -> None:
    """Each made-up method was a new series of every request metric, without bound."""
    import httpx

    with httpx.Client(base_url=live_url) as client:
        for path in ("/v1/models", "/no-such-path", "/"):  # the series of 'other' exist before the count
            client.request("MADEUP", path)
        client.get("/metrics")  # and those of /metrics itself
        before = _series(client.get("/metrics").text)
        statuses = {client.request(f"MADEUP{i}", path).status_code
                    for i in range(30) for path in ("/v1/models", f"/no-such-path-{i}", "/")}
        after = _series(client.get("/metrics").text)
    assert statuses <= {404, 405}, statuses  # the real server hands them to the app, which refuses them
    new = {s for s in after - before if "hmrec_requests" in s or "hmrec_request_" in s}
    assert not new, sorted(new)[:5]
    assert not any("MADEUP" in s or "no-such-path" in s for s in after)
    assert any('method="other"' in s for s in after)


def test_the_page_carries_the_security_headers(live_url: str) -> None:
    import httpx

    for path in ("/", "/static/app.js"):
        response = httpx.get(f"{live_url}{path}")
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy

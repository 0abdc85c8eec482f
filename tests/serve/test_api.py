"""The HTTP API through FastAPI's test client: answers, every kind of bad input, metrics, reload."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'hmrec[serve]')")

from fastapi.testclient import TestClient  # noqa: E402

from hmrec.data.dataset import Dataset  # noqa: E402
from hmrec.models.base import Recommender  # noqa: E402
from hmrec.serve.app import MAX_BATCH, create_app  # noqa: E402
from hmrec.serve.state import ServeState  # noqa: E402

TOKEN = "test-token"


@pytest.fixture(scope="module")
def state(bundles: Path) -> ServeState:
    return ServeState([bundles], admin_token=TOKEN)


@pytest.fixture(scope="module")
def client(state: ServeState) -> Iterator[TestClient]:
    with TestClient(create_app(state), raise_server_exceptions=False) as test_client:
        yield test_client


def one_line_error(response: object, status: int, field: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    message = body["error"]
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"{field}:"), message
    return message


def test_models_are_listed_in_folder_order(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["default"] == "als"
    assert [m["name"] for m in body["models"]] == ["als", "popularity-decay"]
    assert body["models"][0]["depth"] == 12


def test_recommendations_are_the_models_with_article_details(
    client: TestClient, tiny: Dataset, als_model: Recommender
) -> None:
    idx = 42
    customer = str(tiny.customer_ids[idx])
    body = client.get(f"/v1/customers/{customer}/recommendations").json()
    ids, scores = als_model.recommend(np.array([idx], dtype=np.int32), 12)
    assert body["known"] is True and body["model"] == "als" and body["k"] == 12
    assert [item["article_id"] for item in body["items"]] == [str(tiny.article_ids[i]) for i in ids[0]]
    assert [item["score"] for item in body["items"]] == pytest.approx(scores[0].tolist())
    first = body["items"][0]
    a = int(ids[0, 0])
    assert first["rank"] == 1
    assert first["name"] == tiny.articles["prod_name"][a]
    assert first["product_type"] == tiny.articles["product_type_name"][a]
    assert first["colour"] == tiny.articles["colour_group_name"][a]
    assert first["colour_hex"].startswith("#") and len(first["colour_hex"]) == 7
    assert first["price"] > 0
    assert first["source"] in {"als", "bought-before"}
    short = client.get(f"/v1/customers/{customer}/recommendations", params={"k": 3}).json()
    assert short["items"] == body["items"][:3]
    other = client.get(f"/v1/customers/{customer}/recommendations", params={"model": "popularity-decay"}).json()
    assert other["model"] == "popularity-decay" and len(other["items"]) == 12


def test_an_unknown_customer_gets_the_cold_start(client: TestClient, als_model: Recommender, tiny: Dataset) -> None:
    body = client.get(f"/v1/customers/{'0' * 64}/recommendations", params={"k": 5}).json()
    assert body["known"] is False and body["cold_start"] is True
    assert [i["article_id"] for i in body["items"]] == [str(tiny.article_ids[a]) for a in als_model.fallback_ids_[:5]]
    assert {i["source"] for i in body["items"]} == {"cold-start"}


def test_batch(client: TestClient, tiny: Dataset) -> None:
    ids = [str(tiny.customer_ids[i]) for i in (1, 2, 3)] + ["f" * 64]
    body = client.post("/v1/recommendations", json={"customer_ids": ids, "k": 4}).json()
    assert [r["customer_id"] for r in body["results"]] == ids
    assert [r["known"] for r in body["results"]] == [True, True, True, False]
    single = client.get(f"/v1/customers/{ids[1]}/recommendations", params={"k": 4}).json()
    assert body["results"][1] == single


def test_customer_and_article_pages(client: TestClient, tiny: Dataset) -> None:
    customer = str(tiny.customer_ids[7])
    body = client.get(f"/v1/customers/{customer}").json()
    assert body["customer_id"] == customer
    assert body["profile"]["n_purchases"] >= len(body["recent_purchases"])
    for purchase in body["recent_purchases"]:
        assert {"article_id", "prod_name", "product_type_name", "colour_hex", "date", "paid"} <= set(purchase)
    article = str(tiny.article_ids[0])
    page = client.get(f"/v1/articles/{article}").json()
    assert page["article_id"] == article
    assert sum(w["sales"] for w in page["weekly_sales"]) == page["n_sales"]
    assert sum(page["buyers_by_age"].values()) == page["n_buyers"]
    assert client.get(f"/v1/articles/{article.lstrip('0')}").json()["article_id"] == article
    random_id = client.get("/v1/customers/random").json()["customer_id"]
    assert client.get(f"/v1/customers/{random_id}").json()["profile"]["n_purchases"] > 0


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "field"),
    [
        ("get", "/v1/customers/not-an-id/recommendations", {}, 422, "customer_id"),
        ("get", f"/v1/customers/{'A' * 64}/recommendations", {}, 422, "customer_id"),
        ("get", f"/v1/customers/{'a' * 65}/recommendations", {}, 422, "customer_id"),
        ("get", f"/v1/customers/{'a' * 64}/recommendations", {"params": {"k": 0}}, 422, "k"),
        ("get", f"/v1/customers/{'a' * 64}/recommendations", {"params": {"k": 13}}, 422, "k"),
        ("get", f"/v1/customers/{'a' * 64}/recommendations", {"params": {"k": "ten"}}, 422, "k"),
        ("get", f"/v1/customers/{'a' * 64}/recommendations", {"params": {"model": "nope"}}, 422, "model"),
        ("get", "/v1/customers/xyz", {}, 422, "customer_id"),
        ("get", f"/v1/customers/{'a' * 64}", {}, 404, "customer_id"),
        ("get", "/v1/articles/12ab", {}, 422, "article_id"),
        ("get", "/v1/articles/0000000000", {}, 404, "article_id"),
        ("get", "/v1/nothing-here", {}, 404, "path"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": ["a" * 64] * (MAX_BATCH + 1)}}, 422, "customer_ids"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": []}}, 422, "customer_ids"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": [5]}}, 422, "customer_ids.0"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": ["bad"]}}, 422, "customer_id"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": ["a" * 64], "k": 99}}, 422, "k"),
        ("post", "/v1/recommendations", {"json": {"ids": ["a" * 64]}}, 422, "customer_ids"),
        ("post", "/v1/recommendations", {"json": {"customer_ids": ["a" * 64], "extra": 1}}, 422, "extra"),
        ("post", "/v1/recommendations", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
         "body"),
        ("post", "/v1/recommendations", {"content": b"x" * 300_000, "headers": {"content-type": "application/json"}},
         413, "body"),
        ("post", "/v1/recommendations", {"content": b'{"customer_ids":["\\ud800"]}',
                                          "headers": {"content-type": "application/json"}}, 422, "customer_id"),
        ("post", "/v1/recommendations", {"content": b'{"customer_ids":["' + b"a" * 64 + b'"],"model":"\\udfff"}',
                                          "headers": {"content-type": "application/json"}}, 422, "model"),
        ("post", "/admin/reload", {}, 401, "authorization"),
        ("post", "/admin/reload", {"headers": {"authorization": "Bearer wrong"}}, 401, "authorization"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    client: TestClient, method: str, path: str, kwargs: dict[str, object], status: int, field: str
) -> None:
    response = getattr(client, method)(path, **kwargs)
    one_line_error(response, status, field)


def test_a_streamed_oversized_body_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 10_000  # no content-length: the limit is counted as the body arrives

    one_line_error(client.post("/v1/recommendations", content=chunks()), 413, "body")


def test_an_internal_failure_is_a_500_without_a_trace(state: ServeState, bundles: Path) -> None:
    broken = ServeState([bundles])
    broken.bundles["als"].arrays.pop("topk_ids")  # a bug, not bad input
    with TestClient(create_app(broken), raise_server_exceptions=False) as test_client:
        response = test_client.get(f"/v1/customers/{'a' * 64}/recommendations")
        assert response.status_code == 200  # the cold-start path does not touch topk_ids
        response = test_client.get(f"/v1/customers/{broken.bundles['als'].customer_id(0)}/recommendations")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}


def test_health_ready_metrics(client: TestClient, tiny: Dataset) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True, "models": ["als", "popularity-decay"]}
    client.get(f"/v1/customers/{tiny.customer_ids[0]}/recommendations")
    text = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    assert "# TYPE hmrec_requests_total counter" in text
    route = "/v1/customers/{customer_id}/recommendations"
    assert f'hmrec_requests_total{{route="{route}",method="GET",status="200"}}' in text
    assert f'hmrec_request_duration_seconds_bucket{{route="{route}",le="+Inf"}}' in text
    assert f'fingerprint="{tiny.fingerprint}"' in text and 'model="als"' in text


def test_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<title>hmrec" in page.text
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing fetched from elsewhere
    for asset in ("app.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/customers/{customer_id}/recommendations", "/v1/recommendations", "/v1/customers/{customer_id}",
            "/v1/articles/{article_id}", "/health", "/ready", "/metrics"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_reload_keeps_every_request_in_flight_answered(state: ServeState, client: TestClient, tiny: Dataset) -> None:
    customers = [str(c) for c in tiny.customer_ids[:50]]
    failures: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        i = 0
        while not stop.is_set():
            response = client.get(f"/v1/customers/{customers[i % 50]}/recommendations")
            if response.status_code != 200 or len(response.json()["items"]) != 12:
                failures.append(response.status_code)
            i += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    before = state.bundles
    for _ in range(3):
        response = client.post("/admin/reload", headers={"authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert state.bundles is not before and state.metrics.reloads >= 3


def test_a_failed_reload_keeps_the_bundles_served(bundles: Path, tmp_path: Path, tiny: Dataset) -> None:
    import shutil

    folder = tmp_path / "one"
    shutil.copytree(bundles / "als", folder)
    state = ServeState([folder], admin_token=TOKEN)
    with TestClient(create_app(state), raise_server_exceptions=False) as test_client:
        (folder / "bundle.json").write_text("{")
        response = test_client.post("/admin/reload", headers={"authorization": f"Bearer {TOKEN}"})
        message = one_line_error(response, 409, "bundle")
        assert "still serving the previous bundles" in message
        assert test_client.get(f"/v1/customers/{tiny.customer_ids[0]}/recommendations").status_code == 200


def test_admin_is_off_without_a_token(bundles: Path) -> None:
    with TestClient(create_app(ServeState([bundles / "als"])), raise_server_exceptions=False) as test_client:
        one_line_error(test_client.post("/admin/reload", headers={"authorization": "Bearer x"}), 403, "authorization")


def test_made_up_methods_do_not_grow_the_metrics(client: TestClient) -> None:
    for i in range(20):
        client.request(f"MADEUP{i}", "/v1/models")
        client.request(f"X{i}", f"/no-such-path-{i}")
    text = client.get("/metrics").text
    assert "MADEUP" not in text and 'method="X' not in text and "no-such-path" not in text
    assert 'method="other"' in text
    series = [line for line in text.splitlines() if line.startswith("hmrec_requests_total")]
    assert len(series) < 40


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/static/app.js", "/v1/models", "/v1/nothing-here"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/docs").headers["x-frame-options"] == "DENY"

"""The HTTP service: a versioned JSON API over the loaded bundles, health and metrics, and the web page.

Bad input (a malformed id, ``k`` out of range, an oversized batch or body, broken JSON) gets a 4xx whose body
is ``{"error": "<field>: <problem>"}``, one line; an unexpected failure gets a 500 with ``{"error": "internal
error"}``, never a stack trace. Handlers are ``async`` and answer from in-memory arrays without blocking
(no thread hop per request); a reload runs in a worker thread.
"""

from __future__ import annotations

import hmac
import math
import re
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hmrec import __version__
from hmrec.errors import HmrecError
from hmrec.serve.article_lists import NoListsError, served_list
from hmrec.serve.bundle import Bundle, Recommendation
from hmrec.serve.colours import colour_hex
from hmrec.serve.state import ServeState

STATIC = Path(__file__).parent / "static"
#: customer ids per batch request, and bytes per request body
MAX_BATCH = 1000
MAX_BODY = 256 * 1024
ARTICLE_ID_RE = re.compile(r"^[0-9]{9,10}$")
#: sent with every answer: the page loads only its own scripts and styles and may not be framed
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
#: the interactive docs (/docs) load Swagger UI from a CDN, so the strict policy is kept to the rest
PAGE_CSP = b"default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
DOCS_PATHS = ("/docs", "/redoc")


class ApiError(Exception):
    """A client error: HTTP ``status`` and a one-line message that starts with the field it is about."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------------------------------- schemas
class Item(BaseModel):
    rank: int
    article_id: str
    name: str | None
    product_type: str | None
    colour: str | None
    colour_hex: str
    price: float | None
    score: float | None
    source: str


class Recommendations(BaseModel):
    customer_id: str
    model: str
    known: bool = Field(description="False: a customer hmrec does not know; the items are the model's cold start")
    cold_start: bool
    k: int
    items: list[Item]


class SimilarArticles(BaseModel):
    article_id: str
    model: str
    kind: str
    k: int
    items: list[Item] = Field(description="Each item's source is the kind; its score the kind's own")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_ids: list[str] = Field(description=f"At most {MAX_BATCH} customer ids.")
    k: int = 12
    model: str | None = None


class BatchResponse(BaseModel):
    model: str
    k: int
    results: list[Recommendations]


# ---------------------------------------------------------------------------------------------- middleware
class Guard:
    """Pure ASGI middleware: refuses bodies over ``MAX_BODY`` (413) and records each request's metrics."""

    def __init__(self, app: ASGIApp, state: ServeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if not scope["path"].startswith(DOCS_PATHS):
                    headers.append((b"content-security-policy", PAGE_CSP))
                message = {**message, "headers": headers}
            await send(message)

        try:
            too_big, replay = await self._read_body(scope, receive)
            if too_big is not None:
                await too_big(scope, receive, send_wrapper)
            else:
                await self.app(scope, replay, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.state.metrics.observe(template, scope["method"], status["code"], time.perf_counter() - started)

    @staticmethod
    async def _read_body(scope: Scope, receive: Receive) -> tuple[JSONResponse | None, Receive]:
        """Read the whole body (bounded) so that an oversized one is refused before any handler runs.

        Returns the refusal, or None and a ``receive`` that replays the body to the application.
        """
        too_big = _error(413, f"body: larger than {MAX_BODY} bytes (fix: send at most {MAX_BATCH} ids per batch)")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return too_big, receive
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return None, receive
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                return too_big, receive
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return None, replay


def _error(status: int, message: str) -> JSONResponse:
    # a message quotes what the client sent, which may hold a lone surrogate that UTF-8 cannot encode
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": safe}, status_code=status)


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    name = ".".join(parts) if parts else "body"
    return name


# ---------------------------------------------------------------------------------------------- the app
def create_app(state: ServeState) -> FastAPI:
    """The FastAPI application over ``state`` (bundles already loaded)."""
    app = FastAPI(
        title="hmrec",
        version=__version__,
        description="Recommendations for fashion retail: the articles each customer is likely to buy next.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    rng = np.random.default_rng()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return _error(400, "body: not valid JSON")
        msg = str(first.get("msg", "invalid")).splitlines()[0]
        return _error(422, f"{_field(first.get('loc', ()))}: {msg}")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(404, f"path: no such page {request.url.path} (see /docs)")
        return _error(exc.status_code, f"request: {exc.detail}")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal error")

    # -------------------------------------------------------------- helpers
    def pick(model: str | None) -> Bundle:
        bundles = state.bundles
        if model is None or model == "":
            return bundles[next(iter(bundles))]
        if model not in bundles:
            raise ApiError(422, f"model: unknown model '{model[:40]}' (loaded: {', '.join(bundles)})")
        return bundles[model]

    def check_customer_id(bundle: Bundle, customer_id: str) -> None:
        pattern = bundle.manifest.get("customer_id_pattern", r"^.{1,128}$")
        if not re.fullmatch(pattern, customer_id):
            shown = customer_id[:20] + ("..." if len(customer_id) > 20 else "")
            rule = "64 lowercase hexadecimal characters" if "0-9a-f]{64}" in pattern else "a customer id"
            raise ApiError(422, f"customer_id: '{shown}' is not {rule}")

    def check_k(bundle: Bundle, k: int) -> None:
        if not 1 <= k <= bundle.depth:
            raise ApiError(
                422, f"k: must be between 1 and {bundle.depth} for model {bundle.model}, got {k}"
            )

    def article_idx(bundle: Bundle, article_id: str) -> int:
        if not ARTICLE_ID_RE.fullmatch(article_id):
            raise ApiError(422, f"article_id: '{article_id[:20]}' is not a 10-digit article id")
        idx = bundle.article_index(article_id)
        if idx is None:
            raise ApiError(404, f"article_id: unknown article '{article_id}'")
        return idx

    def item(bundle: Bundle, rank: int, rec: Recommendation) -> dict[str, Any]:
        a = bundle.articles
        i = rec.article_idx
        price = a["price"][i]
        colour = a["colour_group_name"][i] if "colour_group_name" in a else None
        return {
            "rank": rank,
            "article_id": bundle.article_id(i),
            "name": a["prod_name"][i] if "prod_name" in a else None,
            "product_type": a["product_type_name"][i] if "product_type_name" in a else None,
            "colour": colour,
            "colour_hex": colour_hex(colour),
            "price": price,
            "score": rec.score if math.isfinite(rec.score) else None,
            "source": rec.source,
        }

    def recommendations(bundle: Bundle, customer_id: str, k: int) -> dict[str, Any]:
        check_customer_id(bundle, customer_id)
        idx = bundle.customer_index(customer_id)
        recs = bundle.recommend(idx, k)
        cold = idx is None or (bool(recs) and all(r.source == "cold-start" for r in recs))
        return {
            "customer_id": customer_id,
            "model": bundle.model,
            "known": idx is not None,
            "cold_start": cold,
            "k": k,
            "items": [item(bundle, rank, rec) for rank, rec in enumerate(recs, start=1)],
        }

    def with_colour(entry: dict[str, Any]) -> dict[str, Any]:
        entry["colour_hex"] = colour_hex(entry.get("colour_group_name"))
        return entry

    # -------------------------------------------------------------- API
    @app.get("/v1/customers/{customer_id}/recommendations", response_model=Recommendations, tags=["recommendations"])
    async def customer_recommendations(
        customer_id: str,
        k: int = Query(12, description="How many articles (1 to the bundle's depth, normally 12)."),
        model: str | None = Query(None, description="Which loaded model (default: the first)."),
    ) -> JSONResponse:
        """The model's top-k articles for a customer; an unknown customer gets the model's cold start."""
        bundle = pick(model)
        check_k(bundle, k)
        return JSONResponse(recommendations(bundle, customer_id, k))

    @app.post("/v1/recommendations", response_model=BatchResponse, tags=["recommendations"])
    async def batch_recommendations(body: BatchRequest) -> JSONResponse:
        """Recommendations for up to 1000 customers at once, in the order given."""
        bundle = pick(body.model)
        check_k(bundle, body.k)
        if len(body.customer_ids) > MAX_BATCH:
            raise ApiError(
                422, f"customer_ids: at most {MAX_BATCH} ids per request, got {len(body.customer_ids)}"
            )
        if not body.customer_ids:
            raise ApiError(422, "customer_ids: give at least one customer id")
        results = [recommendations(bundle, cid, body.k) for cid in body.customer_ids]
        return JSONResponse({"model": bundle.model, "k": body.k, "results": results})

    @app.get("/v1/models", tags=["models"])
    async def models() -> JSONResponse:
        """The loaded bundles, default first."""
        out = []
        for name, b in state.bundles.items():
            m = b.manifest
            out.append({
                "name": name, "model": b.model, "fingerprint": b.fingerprint, "depth": b.depth,
                "created": m.get("created"), "n_customers": b.n_customers, "n_articles": b.n_articles,
                "data_end": m.get("data_end"), "params": m.get("params", {}),
            })
        return JSONResponse({"default": state.default, "models": out})

    @app.get("/v1/customers/random", tags=["customers"])
    async def random_customer(model: str | None = Query(None)) -> JSONResponse:
        """A random customer with purchases, for trying the service."""
        return JSONResponse({"customer_id": pick(model).random_customer(rng)})

    @app.get("/v1/customers/{customer_id}", tags=["customers"])
    async def customer(customer_id: str) -> JSONResponse:
        """A customer's profile and most recent purchases (newest first)."""
        bundle = pick(None)
        check_customer_id(bundle, customer_id)
        idx = bundle.customer_index(customer_id)
        if idx is None:
            raise ApiError(404, f"customer_id: unknown customer '{customer_id[:20]}...'")
        purchases = [with_colour(p) for p in bundle.recent_purchases(idx)]
        return JSONResponse({"customer_id": customer_id, "profile": bundle.profile(idx), "recent_purchases": purchases})

    @app.get("/v1/articles/{article_id}", tags=["articles"])
    async def article(article_id: str) -> JSONResponse:
        """An article's attributes, its weekly sales and who buys it (distinct buyers by age)."""
        bundle = pick(None)
        idx = article_idx(bundle, article_id)
        out = with_colour(bundle.article(idx))
        out["weekly_sales"] = bundle.weekly_sales(idx)
        out["buyers_by_age"] = bundle.buyers_by_age(idx)
        return JSONResponse(out)

    @app.get("/v1/articles/{article_id}/similar", response_model=SimilarArticles, tags=["articles"])
    async def similar_articles(
        article_id: str,
        k: int = Query(12, description="How many articles (1 to the bundle's depth, normally 12)."),
        kind: Literal["bought-together", "similar"] = Query(
            "similar", description="bought-together: bought by the same customers within a few days "
            "(time-decayed share of its buyers); similar: closest by the item factors ALS learned."
        ),
        model: str | None = Query(None, description="Which loaded model's bundle (default: the first)."),
    ) -> JSONResponse:
        """Articles like this one, precomputed by `hmrec train`; 404 for an unknown or never sold article."""
        bundle = pick(model)
        check_k(bundle, k)
        idx = article_idx(bundle, article_id)
        if not bundle.articles["n_sales"][idx]:
            raise ApiError(404, f"article_id: article '{article_id}' was never sold: no purchase to base a list on")
        try:
            pairs = served_list(bundle.arrays, bundle.model, idx, kind, k)
        except NoListsError:
            raise ApiError(
                404, f"kind: bundle {bundle.model} holds no article lists (fix: write it again with `hmrec train`)"
            ) from None
        items = [item(bundle, rank, Recommendation(i, s, kind)) for rank, (i, s) in enumerate(pairs, start=1)]
        return JSONResponse(
            {"article_id": bundle.article_id(idx), "model": bundle.model, "kind": kind, "k": k, "items": items}
        )

    # -------------------------------------------------------------- operations
    @app.get("/health", tags=["operations"])
    async def health() -> JSONResponse:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    @app.get("/ready", tags=["operations"])
    async def ready() -> JSONResponse:
        """Readiness: bundles loaded and answering."""
        return JSONResponse({"ready": bool(state.bundles), "models": list(state.bundles)})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        """Prometheus text format: request counts, latency histogram, the bundles served."""
        info = [
            {"name": name, "model": b.model, "fingerprint": b.fingerprint,
             "bundle_format": str(b.manifest.get("bundle_format")), "hmrec_version": __version__}
            for name, b in state.bundles.items()
        ]
        text = state.metrics.render(info, time.time() - state.started)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/admin/reload", tags=["operations"])
    async def reload(request: Request) -> JSONResponse:
        """Load the bundles again from disk without a restart (``Authorization: Bearer $HMREC_ADMIN_TOKEN``)."""
        if state.admin_token is None:
            raise ApiError(403, "authorization: admin endpoints are off (fix: start with HMREC_ADMIN_TOKEN set)")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {state.admin_token}".encode()):
            raise ApiError(401, "authorization: missing or wrong token (fix: send 'Authorization: Bearer TOKEN')")
        try:
            fresh = await run_in_threadpool(state.reload)
        except HmrecError as exc:
            raise ApiError(409, f"bundle: {exc} (still serving the previous bundles)") from None
        return JSONResponse({"reloaded": list(fresh)})

    # -------------------------------------------------------------- the page
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return Guard(app, state)  # type: ignore[return-value]

"""Request counts and a latency histogram per route, rendered in the Prometheus text format (version 0.0.4).

Kept by hand rather than with a client library: three metric families do not justify a dependency. Routes
are labelled by their template (``/v1/customers/{customer_id}``), never the raw path, so the number of
series stays bounded whatever clients send.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

#: methods counted by name; any other (clients may send made-up ones) is counted as "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: latency buckets, seconds
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    n: int = 0


class Metrics:
    """Thread-safe counters of requests (route, method, status) and their latencies (route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[str, _Histogram] = {}
        self.reloads = 0
        self.reload_failures = 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        # every label is from a bounded set, so no client can grow the number of series
        key = (route, method if method in KNOWN_METHODS else "other", str(status))
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            hist = self._latency.setdefault(route, _Histogram())
            i = 0
            while i < len(BUCKETS) and seconds > BUCKETS[i]:
                i += 1
            hist.counts[i] += 1
            hist.total += seconds
            hist.n += 1

    def render(self, models: list[dict[str, str]], uptime_seconds: float) -> str:
        """The exposition text: requests, latency, one ``hmrec_model_info`` line per loaded bundle, reloads."""
        lines = [
            "# HELP hmrec_requests_total HTTP requests answered, by route template, method and status code.",
            "# TYPE hmrec_requests_total counter",
        ]
        with self._lock:
            requests = sorted(self._requests.items())
            latency = sorted((route, _Histogram(list(h.counts), h.total, h.n)) for route, h in self._latency.items())
            reloads, failures = self.reloads, self.reload_failures
        for (route, method, status), count in requests:
            labels = _labels([("route", route), ("method", method), ("status", status)])
            lines.append(f"hmrec_requests_total{labels} {count}")
        lines += [
            "# HELP hmrec_request_duration_seconds Time to answer a request, by route template.",
            "# TYPE hmrec_request_duration_seconds histogram",
        ]
        for route, hist in latency:
            cumulative = 0
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], hist.counts, strict=True):
                cumulative += count
                lines.append(
                    f"hmrec_request_duration_seconds_bucket{_labels([('route', route), ('le', bound)])} {cumulative}"
                )
            lines.append(f"hmrec_request_duration_seconds_sum{_labels([('route', route)])} {hist.total:.6f}")
            lines.append(f"hmrec_request_duration_seconds_count{_labels([('route', route)])} {hist.n}")
        lines += [
            "# HELP hmrec_model_info The bundles being served: name, model, data fingerprint, versions.",
            "# TYPE hmrec_model_info gauge",
        ]
        for info in models:
            lines.append(f"hmrec_model_info{_labels(sorted(info.items()))} 1")
        lines += [
            "# HELP hmrec_bundle_reloads_total Bundle reloads, by outcome.",
            "# TYPE hmrec_bundle_reloads_total counter",
            f'hmrec_bundle_reloads_total{{outcome="ok"}} {reloads}',
            f'hmrec_bundle_reloads_total{{outcome="failed"}} {failures}',
            "# HELP hmrec_uptime_seconds Seconds since the service started.",
            "# TYPE hmrec_uptime_seconds gauge",
            f"hmrec_uptime_seconds {uptime_seconds:.3f}",
        ]
        return "\n".join(lines) + "\n"

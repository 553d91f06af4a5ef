"""HTTP adapter: one configured department source behind the ``Source`` port.

Everything source-specific is data (``SourceConfig``): URL, request/response shape, field mapping,
signing, timeouts, retries, breaker, cache, concurrency and maintenance windows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from connectors.base import FieldValue, Outcome, Provenance, SourceResult
from connectors.cache import ResultCache
from connectors.clock import Clock, SystemClock, utc_from_timestamp
from connectors.codesets import CodeSets, load_code_sets
from connectors.config import FieldMapping, SourceConfig
from connectors.errors import UnknownFieldError
from connectors.resilience import BreakerState, CircuitBreaker, backoff_delay
from connectors.signing import sign_request

logger = logging.getLogger(__name__)

Pseudonymize = Callable[[str], str]

_REJECTED_STATUS = frozenset({400, 401, 403, 405, 409, 413, 415, 422})
# Shortest attempt worth starting: below this the deadline is effectively spent.
_MIN_ATTEMPT_S = 0.01


def get_path(data: Any, path: str) -> Any:
    """Value at a dotted path in nested dicts, or ``None``.

    >>> get_path({"a": {"b": 1}}, "a.b"), get_path({"a": None}, "a.b")
    (1, None)
    """
    node = data
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _transform(value: Any, mapping: FieldMapping, codes: CodeSets) -> str | None:
    """Source value → canonical string, or ``None`` when it cannot be converted (never guessed)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    if mapping.transform == "strip":
        text = text.strip()
    elif mapping.transform == "date_yyyymmdd":
        if len(text) != 8 or not text.isdigit():
            return None
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    elif mapping.transform == "date_iso":
        text = text[:10]
    elif mapping.transform == "decimal_2":
        try:
            text = str(Decimal(text).quantize(Decimal("0.01")))
        except InvalidOperation:
            return None
    if mapping.transform in ("date_yyyymmdd", "date_iso"):
        try:
            datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            return None
    if mapping.code_set is not None:
        return codes.translate(mapping.code_set, text)
    return text if text != "" else None


@dataclass(frozen=True)
class _Attempt:
    outcome: Outcome
    transient: bool
    detail: str
    body: Any = None
    retry_after: float | None = None


class HttpSource:
    """A department source read over signed HTTP with timeouts, retries, breaker, cache and bulkhead."""

    def __init__(
        self,
        config: SourceConfig,
        client: httpx.AsyncClient,
        *,
        pseudonymize: Pseudonymize,
        clock: Clock | None = None,
        code_sets: CodeSets | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._client = client
        self._pseudonymize = pseudonymize
        self._clock: Clock = clock or SystemClock()
        self._codes = code_sets or load_code_sets()
        self._rng = rng or random.Random()  # jitter only; not security-relevant
        self._secret = config.credentials.resolved_secret()
        self.breaker = CircuitBreaker(config.breaker, self._clock)
        self.cache = ResultCache(config.cache, self._clock.monotonic)
        self._slots = asyncio.Semaphore(config.max_concurrency)
        for code, mapping in config.fields.items():
            if mapping.code_set is not None:
                self._codes.translate(mapping.code_set, "")  # fail at start-up on unknown tables
            del code

    @property
    def source_id(self) -> str:
        return self.config.id

    @property
    def department(self) -> str:
        return self.config.department

    @property
    def provides(self) -> frozenset[str]:
        return self.config.provides

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    def _result(self, outcome: Outcome, requested: frozenset[str], started: float, **kw: Any) -> SourceResult:
        return SourceResult(
            source=self.source_id,
            department=self.department,
            outcome=outcome,
            requested=requested,
            missing=kw.pop("missing", requested if outcome is not Outcome.OK else frozenset()),
            latency_ms=(self._clock.monotonic() - started) * 1000,
            **kw,
        )

    def _maintenance_end(self) -> datetime | None:
        now = utc_from_timestamp(self._clock.time())
        ends = [end for w in self.config.maintenance if (end := w.back_at(now)) is not None]
        return max(ends) if ends else None

    async def fetch(
        self,
        id_number: str,
        fields: Collection[str],
        *,
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> SourceResult:
        requested = frozenset(fields)
        unknown = requested - self.provides
        if unknown:
            raise UnknownFieldError(f"source {self.source_id!r} does not provide {sorted(unknown)}")
        started = self._clock.monotonic()
        if deadline is None:
            r = self.config.retry
            deadline = (
                started + self.config.timeout_s * r.max_attempts + r.backoff_max_s * (r.max_attempts - 1)
            )

        key = ResultCache.key(self._pseudonymize(id_number), requested)
        cached = self.cache.get(key)
        if cached is not None:
            return cached.as_cache_hit((self._clock.monotonic() - started) * 1000, request_id)

        back_at = self._maintenance_end()
        if back_at is not None:
            return self._result(
                Outcome.MAINTENANCE,
                requested,
                started,
                retry_at=back_at,
                detail="scheduled maintenance",
                request_id=request_id,
            )

        if not self.breaker.try_acquire():
            wait = max(0.0, self.breaker.reopens_at - self._clock.monotonic())
            return self._result(
                Outcome.UNAVAILABLE,
                requested,
                started,
                retry_at=utc_from_timestamp(self._clock.time() + wait),
                detail="circuit open",
                request_id=request_id,
            )

        probing = self.breaker.is_probing
        verdict_recorded = False
        try:
            try:
                async with asyncio.timeout(max(0.0, deadline - self._clock.monotonic())):
                    await self._slots.acquire()
            except TimeoutError:
                return self._result(
                    Outcome.TIMEOUT,
                    requested,
                    started,
                    detail="concurrency limit: queued past deadline",
                    request_id=request_id,
                )
            try:
                result = await self._attempts(id_number, requested, deadline, started, request_id, probing)
            finally:
                self._slots.release()
            if result.outcome in (Outcome.UNAVAILABLE, Outcome.TIMEOUT):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            verdict_recorded = True
            if result.outcome is Outcome.OK:
                self.cache.put(key, result)
            return result
        finally:
            if not verdict_recorded:
                self.breaker.release_probe()

    async def _attempts(
        self,
        id_number: str,
        requested: frozenset[str],
        deadline: float,
        started: float,
        request_id: str | None,
        probing: bool,
    ) -> SourceResult:
        policy = self.config.retry
        max_attempts = 1 if probing else policy.max_attempts  # a half-open probe is one call
        attempt = 0
        last: _Attempt | None = None
        while attempt < max_attempts:
            remaining = deadline - self._clock.monotonic()
            if remaining < _MIN_ATTEMPT_S:
                break
            attempt += 1
            last = await self._one_attempt(
                id_number, requested, min(self.config.timeout_s, remaining), request_id
            )
            if not last.transient or attempt >= max_attempts:
                break
            delay = max(backoff_delay(policy, attempt, self._rng), last.retry_after or 0.0)
            if self._clock.monotonic() + delay + _MIN_ATTEMPT_S >= deadline:
                break  # never sleep past the deadline
            await self._clock.sleep(delay)

        if last is None:
            return self._result(
                Outcome.TIMEOUT, requested, started, detail="deadline already passed", request_id=request_id
            )
        if last.outcome is not Outcome.OK:
            logger.info(
                "source %s: %s after %d attempt(s): %s", self.source_id, last.outcome, attempt, last.detail
            )
            return self._result(
                last.outcome, requested, started, attempts=attempt, detail=last.detail, request_id=request_id
            )
        return self._map(last.body, requested, started, attempt, request_id)

    def _request_body(self, id_number: str, requested: frozenset[str]) -> bytes:
        shape = self.config.request
        names = sorted(self.config.fields[code].request for code in requested)
        return json.dumps(
            {shape.subject_field: id_number, shape.fields_field: names},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    async def _one_attempt(
        self, id_number: str, requested: frozenset[str], budget: float, request_id: str | None
    ) -> _Attempt:
        cfg = self.config
        body = self._request_body(id_number, requested)
        url = httpx.URL(cfg.url)
        headers = sign_request(
            cfg.method,
            url.raw_path.decode(),
            body,
            app_key=cfg.credentials.app_key,
            secret=self._secret,
            method=cfg.credentials.signature_method,
            timestamp=int(self._clock.time()),
        )
        headers["Content-Type"] = "application/json"
        if request_id:
            headers["X-Request-ID"] = request_id
        timeout = httpx.Timeout(budget, connect=min(cfg.connect_timeout_s, budget))
        try:
            async with asyncio.timeout(budget):
                response = await self._client.request(
                    cfg.method, url, content=body, headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            return _Attempt(Outcome.TIMEOUT, transient=True, detail="timed out")
        except httpx.TransportError as exc:
            return _Attempt(
                Outcome.UNAVAILABLE, transient=True, detail=f"transport error: {type(exc).__name__}"
            )
        return self._classify(response)

    def _classify(self, response: httpx.Response) -> _Attempt:
        status = response.status_code
        retry_after = _retry_after(response)
        if status in self.config.retry.retry_on_status or status == 429:
            return _Attempt(
                Outcome.UNAVAILABLE, transient=True, detail=f"HTTP {status}", retry_after=retry_after
            )
        if status == 404:
            return _Attempt(Outcome.NOT_FOUND, transient=False, detail="HTTP 404")
        if status in _REJECTED_STATUS:
            return _Attempt(Outcome.REJECTED, transient=False, detail=f"HTTP {status}")
        if status >= 300:
            return _Attempt(Outcome.UNAVAILABLE, transient=False, detail=f"HTTP {status}")
        try:
            payload = response.json()
        except ValueError:
            return _Attempt(Outcome.UNAVAILABLE, transient=False, detail="response is not JSON")
        shape = self.config.response
        code = get_path(payload, shape.status_path)
        code_text = str(code) if code is not None else ""
        if code_text in shape.ok_values:
            return _Attempt(Outcome.OK, transient=False, detail="", body=payload)
        if code_text in shape.not_found_values:
            return _Attempt(Outcome.NOT_FOUND, transient=False, detail="no record")
        return _Attempt(Outcome.REJECTED, transient=False, detail="source answered an unexpected status code")

    def _map(
        self, payload: Any, requested: frozenset[str], started: float, attempts: int, request_id: str | None
    ) -> SourceResult:
        shape = self.config.response
        data = get_path(payload, shape.data_path)
        version = get_path(payload, shape.version_path) if shape.version_path else None
        record_version = str(version) if version is not None else None
        fetched_at = utc_from_timestamp(self._clock.time())
        provenance = Provenance(self.source_id, self.department, fetched_at, record_version)
        values: dict[str, FieldValue] = {}
        for code in sorted(requested):
            mapping = self.config.fields[code]
            value = _transform(get_path(data, mapping.path), mapping, self._codes)
            if value is not None:
                values[code] = FieldValue(code, value, provenance)
        return self._result(
            Outcome.OK,
            requested,
            started,
            values=values,
            missing=requested - values.keys(),
            fetched_at=fetched_at,
            record_version=record_version,
            attempts=attempts,
            request_id=request_id,
        )


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None

"""The baseline of the benchmark: the prefill's outbound calls and nothing else.

A bare ASGI app that answers ``POST /v1/prefill`` by making the same department source reads and
certificate lookups as a prefill of the flexible-employment theme (all matters) — concurrently, with the
same connectors (``HttpSource``: signing, timeouts, breaker, cache), the same shared ``httpx`` client and
transport, and the same deadline — but with no authentication, assertion check, rate limit, audit,
mapping, masking, certificate verification or token. Its throughput is what the sources and the
connectors allow; the service's figure next to it is that plus the service's own cost.

The subject is read from the assertion's payload without checking it (the service checks it).

    uvicorn bench.bare_fanout:create_app --factory --port P   (BARE_SOURCES_BASE_URL=http://127.0.0.1:S)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from certificates.lookup import CertificateLibraryClient, LibraryCredentials, LookupEvent, UseContext
from connectors.base import Source
from connectors.config import load_sources
from connectors.registry import build_sources
from connectors.transport import create_client
from masking import pseudonym
from prefill.catalog.service import CatalogueStore
from prefill.prefilling.service import certificate_uses, fields_by_source
from prefill.settings import DEV_LIBRARY_SECRET, DEV_PSEUDONYM_KEY

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

THEME = "flexible-employment"
DEADLINE_S = 2.0  # the service's default prefill deadline


def subject_of(assertion: str) -> str:
    """The ``sub`` of a JWT, unverified."""
    payload = assertion.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


async def _no_audit(event: LookupEvent) -> None:
    del event


class BareFanout:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        catalogue = CatalogueStore.load(None).get(THEME)
        self.reads = fields_by_source(catalogue, list(catalogue.matters))
        self.certificate_types = sorted(certificate_uses(catalogue, list(catalogue.matters)))
        self.sources: dict[str, Source] = {}
        self.library: CertificateLibraryClient | None = None
        self.use = UseContext(
            reason="bench", organisation="bench", operator="bench", matter_name="bench",
            matter_code="bench", case_number="bench",
        )  # fmt: skip

    async def start(self) -> None:
        self.http = create_client()
        key = DEV_PSEUDONYM_KEY.encode()
        configs = load_sources(base_url_override=self.base_url)
        self.sources = build_sources(configs, self.http, pseudonymize=lambda n: pseudonym(n, key))
        self.library = CertificateLibraryClient(
            self.http,
            self.base_url,
            on_lookup=_no_audit,
            credentials=LibraryCredentials(app_key="prefill-ecert", secret=DEV_LIBRARY_SECRET),
        )

    async def stop(self) -> None:
        await self.http.aclose()

    async def fan_out(self, id_number: str, request_id: str | None) -> int:
        assert self.library is not None
        deadline = time.monotonic() + DEADLINE_S
        reads = [
            self.sources[source].fetch(id_number, codes, deadline=deadline, request_id=request_id)
            for source, codes in self.reads.items()
        ]
        lookups = [
            asyncio.wait_for(
                self.library.lookup(id_number, kind, self.use, request_id=request_id), timeout=DEADLINE_S
            )
            for kind in self.certificate_types
        ]
        results = await asyncio.gather(*reads, *lookups)
        return len(results)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # drain the body, as the service does
            message = await receive()
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        assertion = headers.get(b"x-applicant-assertion", b"").decode()
        request_id = headers.get(b"x-request-id", b"").decode() or None
        try:
            calls = await self.fan_out(subject_of(assertion), request_id)
            status, body = 200, json.dumps({"calls": calls}).encode()
        except (ValueError, IndexError, KeyError):
            status, body = 400, b'{"error":"no assertion"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app() -> BareFanout:
    return BareFanout(os.environ["BARE_SOURCES_BASE_URL"])

"""The delivery worker: sends what the outbox holds, to agencies on this node (handed to
:mod:`exchange.inbox` directly: the same checks, the same statuses) and to other nodes (an
HTTP POST signed by the sending agency's key, :mod:`exchange.nodeauth`), with retries and
exponential back-off (:class:`~exchange.outbox.DeliveryPolicy`).

What a failure means decides what happens next: the peer unreachable, a cut connection, a
timeout, a 5xx, 408 or 429 are tried again later; a refusal (another 4xx, or a local refusal)
fails the message for good with the peer's reason in ``last_error``. Nothing is lost: the
message stays in the outbox in every case, and a worker killed mid-delivery leaves a lease
that expires (see :mod:`exchange.outbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from exchange import inbox, incoming, outbox
from exchange.errors import ExchangeError, NodeRefused
from exchange.nodeauth import MESSAGES_PATH, sign_request
from exchange.outbox import Claimed, DeliveryPolicy
from exchange.service import Services
from signing import KeySigner

log = logging.getLogger("lienthong.delivery")


class _Retry(Exception):
    """A failure worth another attempt."""


class _Refused(Exception):
    """A failure for good."""


class Worker:
    """One delivery worker of a process (``lienthong worker``, or inside ``lienthong serve``).
    Use as an async context manager: the HTTP client and the agencies' keys are opened once
    and closed at the end."""

    def __init__(self, svc: Services, policy: DeliveryPolicy | None = None) -> None:
        self.svc = svc
        self.policy = policy or DeliveryPolicy()
        self._stack = AsyncExitStack()
        self._keys: dict[str, KeySigner | None] = {}
        self._key_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        self._peers: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Worker:
        self._client = await self._stack.enter_async_context(
            httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _key(self, organ_id: str) -> KeySigner | None:
        lock = self._key_locks.setdefault(organ_id, asyncio.Lock())
        async with lock:
            if organ_id not in self._keys:
                self._keys[organ_id] = await self._stack.enter_async_context(
                    incoming.agency_key(self.svc.settings.agencies, organ_id)
                )
            return self._keys[organ_id]

    async def run_once(self) -> int:
        """Claim what is due and deliver it; the number of messages handled."""
        # an idle poll only reads: the claim's write transaction (on SQLite, the database
        # lock, queued behind an issue that seals) is taken only when something is due
        async with self.svc.transaction(read_only=True) as session:
            if not await outbox.anything_due(session):
                return 0
        loop = asyncio.get_running_loop()
        claimed_at = loop.time()  # before the claim: the lease is never thought longer
        async with self.svc.transaction() as session:
            items = await outbox.claim(session, policy=self.policy)
        if items:
            # a message waiting for its turn at a busy peer is sent only while its lease
            # outlasts the whole request: otherwise another worker may take it meanwhile
            last_start = claimed_at + self.policy.lease - self._request_limit()
            await asyncio.gather(*(self._turn(item, last_start) for item in items))
        return len(items)

    def _request_limit(self) -> float:
        return min(self.policy.timeout, self.policy.lease / 2)

    async def _turn(self, item: Claimed, last_start: float) -> None:
        """``item`` delivered when its peer has room (``policy.per_peer`` at once)."""
        peer = "local" if item.route == "local" else (item.node_url or "")
        gate = self._peers.setdefault(peer, asyncio.Semaphore(self.policy.per_peer))
        try:
            async with gate:
                if asyncio.get_running_loop().time() > last_start:
                    async with self.svc.transaction() as session:
                        await outbox.release(session, item)
                    return
                await self._handle(item)
        except ExchangeError as exc:  # the outcome not written: the lease gives it back later
            log.warning("delivery %s to %s not recorded: %s", item.id, item.recipient, exc.en)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: at once when something is enqueued in this process,
        otherwise every ``policy.poll`` seconds."""
        event = outbox.waker()
        try:
            while not stop.is_set():
                # cleared before looking, not after: a message enqueued while this worker
                # looks wakes it again at once instead of waiting for the next poll
                event.clear()
                try:
                    handled = await self.run_once()
                except ExchangeError as exc:  # the database away for a moment: try again
                    log.warning("delivery: %s", exc.en)
                    handled = 0
                if handled:
                    continue
                waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waits, timeout=self.policy.poll, return_when="FIRST_COMPLETED")
                for waiting in waits:
                    waiting.cancel()
        finally:
            outbox.forget_waker(event)

    async def _handle(self, item: Claimed) -> None:
        try:
            payload = b"".join([c async for c in self.svc.blobs.read(item.payload_sha256)])
            if item.route == "local":
                await self._local(item, payload)
            else:
                await self._http(item, payload)
        except _Retry as exc:
            await self._failed(item, str(exc), retry=True)
        except _Refused as exc:
            await self._failed(item, str(exc), retry=False)
        except ExchangeError as exc:
            await self._failed(item, exc.en, retry=exc.status >= 500)
        except Exception as exc:  # one message's surprise must not stop the others
            log.exception("delivery of outbox message %s", item.id)
            await self._failed(item, f"{type(exc).__name__}: {exc}", retry=True)
        else:
            async with self.svc.transaction() as session:
                await outbox.delivered(session, item)

    async def _failed(self, item: Claimed, error: str, *, retry: bool) -> None:
        async with self.svc.transaction() as session:
            state = await outbox.failed(session, item, error, retry=retry, policy=self.policy)
        log.info("delivery %s to %s: %s (%s)", item.id, item.recipient, error, state)

    async def _local(self, item: Claimed, payload: bytes) -> None:
        try:
            await inbox.accept(
                self.svc, sender=item.sender, recipient=item.recipient, body=payload, origin="local"
            )
        except NodeRefused as exc:
            await inbox.record_refusal(
                self.svc, sender=item.sender, recipient=item.recipient, error=exc, origin="local"
            )
            raise _Refused(exc.en) from exc

    async def _http(self, item: Claimed, payload: bytes) -> None:
        if not item.node_url:
            raise _Refused(f"the directory gives no node URL for {item.recipient}")
        key = await self._key(item.sender)
        if key is None:
            raise _Refused(
                f"no agency key is configured on this node for {item.sender}: "
                "requests to other nodes are signed with it"
            )
        headers = await sign_request(
            key, sender=item.sender, recipient=item.recipient, body=payload
        )
        headers["Content-Type"] = "application/xml"
        url = _messages_url(item.node_url)
        if url is None:
            raise _Refused(
                f"the directory's node URL for {item.recipient} is not a plain http(s) URL "
                "(no user, query or fragment)"
            )
        if self._client is None:
            raise RuntimeError("use the worker as an async context manager")
        try:
            # the whole exchange bounded, not each read: a peer trickling its answer must not
            # hold the worker (or outlive the claim's lease)
            async with asyncio.timeout(self._request_limit()):
                async with self._client.stream(
                    "POST", url, content=payload, headers=headers
                ) as response:
                    answer = await _bounded(response)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise _Retry(f"{url}: {type(exc).__name__}: {exc}") from exc
        if 200 <= response.status_code < 300:
            return
        detail, reason = answer.decode("utf-8", "replace")[:500], None
        with contextlib.suppress(ValueError, AttributeError):
            problem = json.loads(answer)
            detail, reason = str(problem.get("detail", detail))[:500], problem.get("reason")
        code = f"HTTP {response.status_code}" + (f" ({str(reason)[:40]})" if reason else "")
        message = f"{url}: {code}: {detail}"
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise _Retry(message)
        raise _Refused(message)


ANSWER_LIMIT = 16 * 1024
"""The most of a peer's answer the worker reads (a problem+json or a short JSON)."""


async def _bounded(response: httpx.Response) -> bytes:
    parts, size = [], 0
    async for chunk in response.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size >= ANSWER_LIMIT:
            break
    return b"".join(parts)[:ANSWER_LIMIT]


def _messages_url(node_url: str) -> str | None:
    """The node endpoint under ``node_url``, or None when the URL is not a plain one (a
    directory entry must not steer the worker to another path, user or query)."""
    parts = urlsplit(node_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
    ):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + MESSAGES_PATH, "", ""))


@asynccontextmanager
async def running(svc: Services, policy: DeliveryPolicy | None = None) -> AsyncIterator[Worker]:
    """A worker delivering in the background for the block (``lienthong serve``)."""
    stop = asyncio.Event()
    async with Worker(svc, policy) as worker:
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            await task

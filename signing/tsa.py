"""RFC 3161 timestamp client over HTTP, with several TSA URLs tried in order."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper

from signing.errors import ServiceUnavailable


class HttpTimestamper(TimeStamper):
    """pyHanko ``TimeStamper`` over httpx: the first TSA that answers a valid reply wins.

    pyHanko's own HTTP clients need ``requests`` or an aiohttp session; this one keeps the
    project on one HTTP library and gives one clear error when every TSA fails.
    """

    def __init__(self, urls: Sequence[str], *, timeout: float = 10.0) -> None:
        if not urls:
            raise ValueError("at least one TSA URL is needed")
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.urls = tuple(urls)
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        failures: list[str] = []
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            for url in self.urls:
                try:
                    resp = await client.post(
                        url,
                        content=req.dump(),
                        headers={"Content-Type": "application/timestamp-query"},
                    )
                except httpx.HTTPError as exc:
                    failures.append(f"{url}: {type(exc).__name__}")
                    continue
                if resp.status_code != 200:
                    failures.append(f"{url}: HTTP {resp.status_code}")
                    continue
                try:
                    parsed = tsp.TimeStampResp.load(resp.content)
                    status = parsed["status"]["status"].native
                except ValueError:
                    failures.append(f"{url}: not a timestamp reply")
                    continue
                if status not in ("granted", "granted_with_mods"):
                    failures.append(f"{url}: refused ({status})")
                    continue
                return parsed
        detail = "; ".join(failures)
        raise ServiceUnavailable(
            f"no timestamp authority answered ({detail})",
            f"không máy chủ cấp dấu thời gian nào trả lời ({detail})",
        )

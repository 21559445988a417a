"""Several uses of one token in one process: PKCS#11 logs in once per application and token,
so overlapping ``open_key`` uses share that login; the last one to end logs out, a wrong PIN
is still refused while another use is logged in."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from asn1crypto import x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pkcs11 import Attribute, ObjectClass

from signing import (
    KeySigner,
    PinIncorrect,
    PinMissing,
    PinOptions,
    TokenNotFound,
    open_key,
    pkcs11_uri,
)
from signing.pkcs11 import load_module
from tests.plugin import SoftHsmToken

pytestmark = pytest.mark.hsm


def _verify(certificate: x509.Certificate, data: bytes, signature: bytes) -> None:
    """Raises unless ``signature`` is the certificate's key's signature of ``data``."""
    public = cx509.load_der_x509_certificate(certificate.dump()).public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))


async def _sign_checked(key: KeySigner, data: bytes) -> None:
    signature = await key.sign_raw(data, "sha256")
    _verify(key.certificate, data, signature)


def _opener(
    token: SoftHsmToken, name: str, pin: str | None = None
) -> contextlib.AbstractAsyncContextManager[KeySigner]:
    given = token.pin if pin is None else pin
    return open_key(token.uri(name), PinOptions(prompt=lambda: given))


async def test_two_uses_of_one_token_sign_at_once(token: SoftHsmToken) -> None:
    async def one(name: str, n: int) -> bytes:
        async with _opener(token, name) as key:
            await asyncio.gather(*(_sign_checked(key, f"{name} {i}".encode()) for i in range(n)))
            return key.certificate.dump()

    personal, agency = await asyncio.gather(one("personal", 3), one("agency", 3))
    assert personal != agency
    # the same key twice at once, too
    first, second = await asyncio.gather(one("personal", 2), one("personal", 2))
    assert first == second == personal


async def test_ten_overlapping_uses(token: SoftHsmToken) -> None:
    names = ["personal", "agency", "personal-ec", "agency-ec", "personal"] * 2
    all_open = asyncio.Barrier(len(names))

    async def one(i: int, name: str) -> None:
        async with _opener(token, name) as key:
            await all_open.wait()  # every use is open before any signs or ends
            await _sign_checked(key, f"use {i}".encode())

    await asyncio.gather(*(one(i, n) for i, n in enumerate(names)))


async def test_one_use_ends_while_another_goes_on(token: SoftHsmToken) -> None:
    # the first use to log in ends first: the later one keeps its login
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(_opener(token, "agency"))
        async with _opener(token, "personal") as second:
            await stack.aclose()
            del first
            await _sign_checked(second, b"after the first ended")
    # the later use ends first: the first one keeps its login
    async with _opener(token, "agency") as first:
        async with _opener(token, "personal") as second:
            await _sign_checked(second, b"second")
        await _sign_checked(first, b"after the second ended")
    # and once all have ended, a new use logs in again
    async with _opener(token, "personal") as again:
        await _sign_checked(again, b"a fresh login")


async def test_a_wrong_pin_is_refused_while_another_use_is_logged_in(
    token: SoftHsmToken,
) -> None:
    async with _opener(token, "agency") as held:
        with pytest.raises(PinIncorrect, match="wrong PIN") as wrong:
            async with _opener(token, "personal", pin=token.pin + "9"):
                pytest.fail("opened with a wrong PIN")
        assert "sai mã PIN" in wrong.value.vi
        with pytest.raises(PinIncorrect):
            async with _opener(token, "personal", pin=token.pin[:-1]):
                pytest.fail("opened with a wrong PIN")
        with pytest.raises(PinMissing):
            async with open_key(token.uri("personal"), PinOptions()):
                pytest.fail("opened without a PIN")
        await _sign_checked(held, b"after the refusals: still logged in")
    # no use is left: the token itself judges the PIN again
    with pytest.raises(PinIncorrect, match="wrong PIN"):
        async with _opener(token, "personal", pin=token.pin + "9"):
            pytest.fail("opened with a wrong PIN")


async def test_uses_from_other_threads_and_event_loops(token: SoftHsmToken) -> None:
    """A CLI or a worker may run its own event loop in another thread: the login is the
    process's, shared across threads."""
    names = ("personal", "agency-ec", "personal")
    errors: list[BaseException] = []
    start = threading.Barrier(len(names), timeout=60)

    def in_a_thread(name: str) -> None:
        async def run() -> None:
            async with _opener(token, name) as key:
                for i in range(3):
                    await _sign_checked(key, f"{name} in a thread {i}".encode())

        try:
            start.wait()
            asyncio.run(run())
        except BaseException as exc:  # reported below
            errors.append(exc)

    async with _opener(token, "agency") as held:
        threads = [threading.Thread(target=in_a_thread, args=(n,)) for n in names]
        for t in threads:
            t.start()
        await asyncio.to_thread(lambda: [t.join(timeout=120) for t in threads])
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors
        await _sign_checked(held, b"after the threads ended")


def _private_keys_visible(token: SoftHsmToken) -> int:
    """How many private keys a fresh session of this process, itself not logging in, sees:
    some while the token is logged in, none once it is logged out."""
    [slot_token] = [
        t
        for t in (s.get_token() for s in load_module(token.module).get_slots(token_present=True))
        if t.label == token.label
    ]
    session = slot_token.open()
    try:
        return len(list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})))
    finally:
        session.close()


async def test_the_last_use_to_end_logs_out(token: SoftHsmToken) -> None:
    assert _private_keys_visible(token) == 0
    async with _opener(token, "agency") as first:
        async with _opener(token, "personal"):
            assert _private_keys_visible(token) > 0
        assert _private_keys_visible(token) > 0  # the second's end left the first logged in
        await _sign_checked(first, b"still logged in")
    assert _private_keys_visible(token) == 0


async def test_a_missing_token_is_told_while_another_is_open(token: SoftHsmToken) -> None:
    async with _opener(token, "agency") as key:
        with pytest.raises(TokenNotFound, match="no token 'absent'"):
            async with open_key(
                pkcs11_uri("absent", "agency", token.module), PinOptions(prompt=lambda: token.pin)
            ):
                pytest.fail("opened a missing token")
        await _sign_checked(key, b"unaffected")

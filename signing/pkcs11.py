"""Keys on USB tokens and HSMs, through PKCS#11 (python-pkcs11).

Config value → context manager → live key: a :class:`Pkcs11Config` (usually parsed from an
RFC 7512 ``pkcs11:`` URI) is opened with :func:`open_pkcs11_key`, which loads the module,
finds the token, logs in once and yields a :class:`Pkcs11Key` that serves a whole batch.
Every blocking PKCS#11 call runs in a worker thread, bounded by a semaphore (one session, so
one operation at a time) and by a lock per module (python-pkcs11 initialises modules for
one thread at a time). PKCS#11 logs in per process and token, not per session: overlapping
uses of one token share one login, kept by the first and given up by the last (see
:class:`_Use`). The PIN is asked for only when the token needs it, and is never logged or
kept; while a login lasts, a salted HMAC of it judges the PIN of later uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pkcs11
from asn1crypto import x509
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_ecdsa_signature

from signing.errors import (
    CertificateNotFound,
    KeyNotFound,
    ModuleNotLoadable,
    PinIncorrect,
    PinLocked,
    PinMissing,
    TokenError,
    TokenNotFound,
    UsageError,
)
from signing.keys import CertifiedKey, complete_chain

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"

PinSource = Callable[[], str]
"""Gives the PIN (or a PKCS#12 password) when a key needs one; called at most once per
opening of the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pkcs11Config:
    """Which module, token and key to use."""

    module_path: str = DEFAULT_MODULE
    """Path of the PKCS#11 module (the token vendor's ``.so``)."""
    token_label: str | None = None
    """Token label (``token=`` in a PKCS#11 URI)."""
    token_serial: str | None = None
    """Token serial number (``serial=``)."""
    slot_id: int | None = None
    """Slot number (``slot-id=``), when label and serial are not enough."""
    key_label: str | None = None
    """Label of the private key (``object=``)."""
    key_id: bytes | None = None
    """CKA_ID of the private key (``id=``); its certificate normally has the same id."""
    pin_file: str | None = None
    """``pin-source=file:…`` of the URI: a file holding the PIN."""
    pss: bool = field(default=False)
    """For RSA keys: RSASSA-PSS instead of PKCS#1 v1.5."""


def pkcs11_uri(token: str, key: str, /, module: str | None = None) -> str:
    """The RFC 7512 URI naming the private key labelled ``key`` on the token ``token``:
    the inverse of :func:`parse_pkcs11_uri` for these attributes (percent-encoding what the
    URI syntax reserves, spaces and diacritics included)."""
    # RFC 7512 2.3: pchar minus ';' in the path; '&' is reserved in the query
    path_safe = ":[]@!$()*+,=-._~"  # no quote: the URI may be printed inside '…'
    uri = f"pkcs11:token={quote(token, safe=path_safe)};object={quote(key, safe=path_safe)}"
    if module is not None:
        uri += f"?module-path={quote(module, safe='/:[]@!$()*+,;=-._~')}"
    return uri


def parse_pkcs11_uri(uri: str, *, default_module: str = DEFAULT_MODULE) -> Pkcs11Config:
    """Parse an RFC 7512 PKCS#11 URI naming a private key.

    Written by hand: no maintained Python library parses these URIs. Supported path
    attributes: ``token``, ``serial``, ``slot-id``, ``object``, ``id``, ``type`` (must be
    ``private`` if given); query attributes: ``module-path``, ``pin-source`` (``file:`` only).
    ``pin-value`` is refused so that no PIN ends up in shell history or process lists.
    """
    if not uri.startswith("pkcs11:"):
        raise UsageError(f"not a PKCS#11 URI: {uri!r}", f"không phải URI PKCS#11: {uri!r}")
    body = uri[len("pkcs11:") :]
    path, _, query = body.partition("?")
    values: dict[str, Any] = {"module_path": default_module}
    for part in filter(None, path.split(";")):
        name, sep, raw = part.partition("=")
        if not sep:
            raise UsageError(
                f"malformed PKCS#11 URI attribute {part!r}",
                f"thuộc tính URI PKCS#11 sai dạng {part!r}",
            )
        value = unquote(raw)
        if name == "token":
            values["token_label"] = value
        elif name == "serial":
            values["token_serial"] = value
        elif name == "slot-id":
            values["slot_id"] = int(value)
        elif name == "object":
            values["key_label"] = value
        elif name == "id":
            values["key_id"] = unquote(raw, encoding="latin-1").encode("latin-1")
        elif name == "type":
            if value != "private":
                raise UsageError(
                    f"the PKCS#11 URI must name a private key, not type={value}",
                    f"URI PKCS#11 phải chỉ tới khóa bí mật, không phải type={value}",
                )
        elif name in {"manufacturer", "model", "library-manufacturer", "library-description"}:
            continue
        else:
            raise UsageError(
                f"unknown PKCS#11 URI attribute {name!r}",
                f"URI PKCS#11 có thuộc tính không biết {name!r}",
            )
    for part in filter(None, query.split("&")):
        name, _, raw = part.partition("=")
        value = unquote(raw)
        if name == "module-path":
            values["module_path"] = value
        elif name == "pin-source":
            if not value.startswith("file:"):
                raise UsageError(
                    "pin-source in a PKCS#11 URI must be a file: URI",
                    "pin-source trong URI PKCS#11 phải là URI file:",
                )
            values["pin_file"] = value.removeprefix("file:").removeprefix("//")
        elif name == "pin-value":
            raise UsageError(
                "a PIN inside the PKCS#11 URI is refused: give it separately",
                "không nhận mã PIN trong URI PKCS#11: hãy đưa mã PIN riêng",
                needs="pin",
            )
        else:
            raise UsageError(
                f"unknown PKCS#11 URI query attribute {name!r}",
                f"URI PKCS#11 có thuộc tính truy vấn không biết {name!r}",
            )
    return Pkcs11Config(**values)


@dataclass(eq=False, slots=True)
class _Login:
    """The login of this process to one token, shared by every use open on it."""

    session: Any
    """The session that logged in; closing it (by the last use) logs the token out."""
    salt: bytes
    pin_mac: bytes
    """HMAC of the PIN that logged in, to judge the PIN of a later use (the token cannot:
    a second C_Login answers CKR_USER_ALREADY_LOGGED_IN whatever the PIN)."""
    uses: int = 0


@dataclass(eq=False, slots=True)
class _Module:
    """A loaded and initialised PKCS#11 module and the logins held on its tokens."""

    lib: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Taken around every call into the module: python-pkcs11 calls C_Initialize(NULL), by
    which the application promises not to call the module from several threads at once
    (SoftHSM2 then answers CKR_GENERAL_ERROR to concurrent calls)."""
    logins: dict[tuple[int, str, str], _Login] = field(default_factory=dict)
    """Keyed by slot, token label and serial. PKCS#11 login state belongs to the application
    and the token: every session of the process on the token shares it."""


_modules: dict[str, _Module] = {}
_modules_lock = threading.Lock()


def _module(path: str) -> _Module:
    # one entry per file, however its path is spelled: a second C_Initialize of the same
    # module fails (CKR_CRYPTOKI_ALREADY_INITIALIZED)
    real = os.path.realpath(path)
    with _modules_lock:
        module = _modules.get(real)
        if module is None:
            try:
                lib = pkcs11.lib(real)
            except Exception as exc:  # the module's own loader raises several kinds
                raise ModuleNotLoadable(
                    f"cannot load the PKCS#11 module {path}: {exc}",
                    f"không nạp được mô-đun PKCS#11 {path}",
                ) from exc
            module = _modules[real] = _Module(lib)
        return module


def load_module(path: str) -> Any:
    """Load (once per process: PKCS#11 allows one C_Initialize) the module at ``path``."""
    return _module(path).lib


def _find_token(lib: Any, config: Pkcs11Config) -> Any:
    try:
        slots = lib.get_slots(token_present=True)
    except p11e.PKCS11Error as exc:
        raise TokenError(
            f"cannot list the token slots: {type(exc).__name__}",
            f"không liệt kê được các khe token ({type(exc).__name__})",
        ) from exc
    wanted = []
    for slot in slots:
        if config.slot_id is not None and slot.slot_id != config.slot_id:
            continue
        try:
            token = slot.get_token()
        except (p11e.TokenNotPresent, p11e.TokenNotRecognised):
            continue
        if config.token_label is not None and token.label != config.token_label:
            continue
        if (
            config.token_serial is not None
            and token.serial.decode("ascii", "replace").strip() != config.token_serial
        ):
            continue
        wanted.append(token)
    what = config.token_label or config.token_serial or config.slot_id
    if not wanted:
        raise TokenNotFound(
            f"no token {what!r} is plugged in (module {config.module_path})"
            if what is not None
            else f"no token is plugged in (module {config.module_path})",
            f"không thấy token {what!r} (mô-đun {config.module_path})"
            if what is not None
            else f"không thấy token nào (mô-đun {config.module_path})",
        )
    if len(wanted) > 1:
        labels = ", ".join(repr(t.label) for t in wanted)
        raise UsageError(
            f"several tokens match ({labels}): name one with token= or serial=",
            f"có nhiều token phù hợp ({labels}): chỉ rõ token= hoặc serial=",
        )
    return wanted[0]


def _locked_error(token: Any) -> PinLocked:
    return PinLocked(
        f"the PIN of token {token.label!r} is locked: ask the administrator to unblock it",
        f"mã PIN của token {token.label!r} đã bị khóa: liên hệ quản trị để mở khóa",
    )


def _wrong_pin_error(token: Any) -> PinIncorrect:
    left = ""
    if token.flags & pkcs11.TokenFlag.USER_PIN_FINAL_TRY:
        left = " (one try left before the PIN locks)"
    return PinIncorrect(
        f"wrong PIN for token {token.label!r}{left}",
        f"sai mã PIN của token {token.label!r}{' (chỉ còn một lần thử)' if left else ''}",
    )


def _pin_mac(salt: bytes, pin: str) -> bytes:
    return hmac.new(salt, pin.encode("utf-8"), hashlib.sha256).digest()


def _token_key(token: Any) -> tuple[int, str, str]:
    return (
        int(token.slot.slot_id),
        str(token.label),
        bytes(token.serial).decode("ascii", "replace").strip(),
    )


def _open_session(token: Any, pin: str | None = None) -> Any:
    try:
        return token.open(user_pin=pin)
    except p11e.PinIncorrect as exc:
        raise _wrong_pin_error(token) from exc
    except p11e.PinLocked as exc:
        raise _locked_error(token) from exc
    except (p11e.PinLenRange, p11e.PinInvalid) as exc:
        raise PinIncorrect(
            f"the PIN for token {token.label!r} has an invalid length or characters",
            f"mã PIN của token {token.label!r} sai độ dài hoặc ký tự",
        ) from exc
    except p11e.UserAlreadyLoggedIn as exc:
        # logged in outside this module's bookkeeping (nothing here does that): the PIN
        # cannot be judged, so it is not taken as right
        raise TokenError(
            f"token {token.label!r} is already logged in by another part of this process",
            f"token {token.label!r} đã được đăng nhập bởi một phần khác của tiến trình này",
        ) from exc
    except p11e.PKCS11Error as exc:
        raise TokenError(
            f"cannot open a session on token {token.label!r}: {type(exc).__name__}",
            f"không mở được phiên làm việc với token {token.label!r}: {type(exc).__name__}",
        ) from exc


def _close_quietly(session: Any) -> None:
    with contextlib.suppress(p11e.PKCS11Error):
        session.close()


def _acquire(
    module: _Module, token: Any, pin_source: PinSource | None
) -> tuple[Any, tuple[int, str, str] | None]:
    """Open the session of one use on ``token``, logged in as the user if the token needs
    it; gives the session and the key of the login it shares (None: no login needed).

    The first use logs in, through a session the login keeps; later uses (while any is
    open) share that login, their PIN compared with the one that logged in. Each use has a
    session of its own, which never logs out. The caller holds ``module.lock``.
    """
    flags = token.flags
    if flags & pkcs11.TokenFlag.USER_PIN_LOCKED:
        raise _locked_error(token)
    if not flags & pkcs11.TokenFlag.LOGIN_REQUIRED:
        return _open_session(token), None
    if pin_source is None:
        raise PinMissing(
            f"token {token.label!r} needs a PIN", f"token {token.label!r} cần mã PIN", needs="pin"
        )
    pin = pin_source()
    key = _token_key(token)
    login = module.logins.get(key)
    if login is None:
        salt = secrets.token_bytes(32)
        login = _Login(session=_open_session(token, pin), salt=salt, pin_mac=_pin_mac(salt, pin))
        module.logins[key] = login
    elif not hmac.compare_digest(_pin_mac(login.salt, pin), login.pin_mac):
        raise _wrong_pin_error(token)
    login.uses += 1
    try:
        return _open_session(token), key
    except BaseException:
        _release(module, key, None)
        raise


def _release(module: _Module, key: tuple[int, str, str] | None, session: Any | None) -> None:
    """End one use: close its session; the last use of a login logs the token out. The
    caller holds ``module.lock``."""
    if session is not None:
        _close_quietly(session)
    if key is None or (login := module.logins.get(key)) is None:
        return
    login.uses -= 1
    if login.uses <= 0:
        del module.logins[key]
        _close_quietly(login.session)  # C_Logout, then C_CloseSession


class _Use:
    """One use of a token (an ``open_pkcs11_key`` block): its session and its share of the
    token's login. :meth:`open` and :meth:`close` block (run them in a worker thread);
    :meth:`close` may come first (a cancelled opening), and :meth:`open` then does nothing."""

    def __init__(self, config: Pkcs11Config, pin_source: PinSource | None) -> None:
        self._config = config
        self._pin_source = pin_source
        self._lock = threading.Lock()
        self._closed = False
        self._login: tuple[int, str, str] | None = None
        self.module: _Module | None = None
        self.session: Any = None

    def open(self) -> _Module:
        with self._lock:
            if self._closed:  # its opener was cancelled and has gone: nobody reads this
                raise TokenError(
                    "the use of the token ended before it opened",
                    "việc dùng token đã dừng trước khi mở xong",
                )
            module = _module(self._config.module_path)
            with module.lock:
                token = _find_token(module.lib, self._config)
                self.session, self._login = _acquire(module, token, self._pin_source)
            self.module = module
            return module

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self.module is None:
                return
            with self.module.lock:
                _release(self.module, self._login, self.session)
            self.module = None
            self.session = None


def _certificates(session: Any) -> list[tuple[bytes, str, x509.Certificate]]:
    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        try:
            der = obj[Attribute.VALUE]
        except p11e.PKCS11Error:
            continue
        cert_id = _attr(obj, Attribute.ID) or b""
        label = _attr(obj, Attribute.LABEL) or ""
        found.append((bytes(cert_id), str(label), x509.Certificate.load(bytes(der))))
    return found


def _attr(obj: Any, attribute: Attribute) -> Any:
    try:
        return obj[attribute]
    except (p11e.AttributeTypeInvalid, p11e.AttributeSensitive, KeyError):
        return None


def _find_key(session: Any, config: Pkcs11Config) -> Any:
    query: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
    if config.key_label is not None:
        query[Attribute.LABEL] = config.key_label
    if config.key_id is not None:
        query[Attribute.ID] = config.key_id
    keys = list(session.get_objects(query))
    what = config.key_label or (config.key_id.hex() if config.key_id else None)
    if not keys:
        raise KeyNotFound(
            f"no private key {what!r} on the token" if what else "no private key on the token",
            f"không thấy khóa bí mật {what!r} trên token" if what else "token không có khóa bí mật",
        )
    if len(keys) > 1:
        labels = ", ".join(repr(_attr(k, Attribute.LABEL)) for k in keys)
        raise UsageError(
            f"several private keys match ({labels}): name one with object= or id=",
            f"có nhiều khóa bí mật phù hợp ({labels}): chỉ rõ object= hoặc id=",
        )
    return keys[0]


def _public_key_matches(cert: x509.Certificate, key: Any) -> bool:
    key_type = _attr(key, Attribute.KEY_TYPE)
    if key_type == KeyType.RSA:
        modulus = _attr(key, Attribute.MODULUS)
        return (
            modulus is not None
            and cert.public_key.algorithm == "rsa"
            and cert.public_key["public_key"].parsed["modulus"].native
            == int.from_bytes(modulus, "big")
        )
    return False


def _pick_certificate(
    key: Any, certs: Sequence[tuple[bytes, str, x509.Certificate]]
) -> x509.Certificate:
    key_id = _attr(key, Attribute.ID)
    key_label = _attr(key, Attribute.LABEL)
    for cert_id, _label, cert in certs:
        if key_id and cert_id == bytes(key_id):
            return cert
    for _cert_id, label, cert in certs:
        if key_label and label == key_label:
            return cert
    for _cert_id, _label, cert in certs:
        if _public_key_matches(cert, key):
            return cert
    raise CertificateNotFound(
        f"the token holds no certificate for the key {key_label!r}",
        f"token không có chứng thư số cho khóa {key_label!r}",
    )


_DIGEST_MECHANISMS = {
    "sha256": (Mechanism.SHA256_RSA_PKCS, Mechanism.SHA256_RSA_PKCS_PSS, Mechanism.SHA256),
    "sha384": (Mechanism.SHA384_RSA_PKCS, Mechanism.SHA384_RSA_PKCS_PSS, Mechanism.SHA384),
    "sha512": (Mechanism.SHA512_RSA_PKCS, Mechanism.SHA512_RSA_PKCS_PSS, Mechanism.SHA512),
}
_MGF = {"sha256": pkcs11.MGF.SHA256, "sha384": pkcs11.MGF.SHA384, "sha512": pkcs11.MGF.SHA512}


class Pkcs11Key(CertifiedKey):
    """A private key on a token, with its certificate; serves a batch with one login."""

    def __init__(
        self,
        key: Any,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        *,
        pss: bool,
        label: str,
        max_concurrency: int = 1,
        module_lock: contextlib.AbstractContextManager[Any] | None = None,
    ) -> None:
        super().__init__(certificate, chain, pss=pss)
        self._key = key
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._module_lock = module_lock if module_lock is not None else contextlib.nullcontext()
        self.label = label

    def _sign_blocking(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            pkcs1, pss, hash_mech = _DIGEST_MECHANISMS[digest_algorithm]
        except KeyError:
            raise UsageError(
                f"unsupported digest algorithm {digest_algorithm}",
                f"không hỗ trợ hàm băm {digest_algorithm}",
            ) from None
        try:
            if self._algorithm == "ec":
                # SoftHSM2 (and several tokens) have no hash-and-ECDSA mechanism: hash here,
                # sign the digest with the raw ECDSA mechanism, return the usual DER encoding.
                digest = hashlib.new(digest_algorithm, data).digest()
                raw = self._key.sign(digest, mechanism=Mechanism.ECDSA)
                return bytes(encode_ecdsa_signature(raw))
            if self._pss:
                size = hashlib.new(digest_algorithm).digest_size
                return bytes(
                    self._key.sign(
                        data,
                        mechanism=pss,
                        mechanism_param=(hash_mech, _MGF[digest_algorithm], size),
                    )
                )
            return bytes(self._key.sign(data, mechanism=pkcs1))
        except p11e.PKCS11Error as exc:
            raise TokenError(
                f"the token refused to sign with key {self.label!r}: {type(exc).__name__}",
                f"token từ chối ký bằng khóa {self.label!r}: {type(exc).__name__}",
            ) from exc

    def _sign_locked(self, data: bytes, digest_algorithm: str) -> bytes:
        with self._module_lock:
            return self._sign_blocking(data, digest_algorithm)

    async def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        async with self._semaphore:
            return await asyncio.to_thread(self._sign_locked, data, digest_algorithm)


@contextlib.asynccontextmanager
async def open_pkcs11_key(
    config: Pkcs11Config,
    pin_source: PinSource | None = None,
    *,
    extra_chain: Sequence[x509.Certificate] = (),
) -> AsyncIterator[Pkcs11Key]:
    """Log in to the token and yield its key; ends the use (closes its session) on exit.

    Uses of one token may overlap, in one event loop or several threads: the first logs in,
    the later ones share the login (a PIN other than the one that logged in is refused as
    wrong), the last one to end logs out.

    The certificate is the one stored with the key (same CKA_ID, else same label, else the
    same public key); the chain is completed from the token's other certificates and
    ``extra_chain``.
    """
    use = _Use(config, pin_source)
    try:
        module = await asyncio.to_thread(use.open)

        def lookup() -> Pkcs11Key:
            with module.lock:
                key = _find_key(use.session, config)
                certs = _certificates(use.session)
                cert = _pick_certificate(key, certs)
                label = str(_attr(key, Attribute.LABEL) or "")
            pool = [c for _, _, c in certs] + list(extra_chain)
            return Pkcs11Key(
                key,
                cert,
                complete_chain(cert, pool),
                pss=config.pss,
                label=label,
                module_lock=module.lock,
            )

        yield await asyncio.to_thread(lookup)
    finally:
        await asyncio.to_thread(use.close)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenObject:
    kind: str
    label: str
    id_hex: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    slot_id: int
    label: str
    serial: str
    manufacturer: str
    model: str
    login_required: bool
    objects: tuple[TokenObject, ...]


def list_tokens(module_path: str, pin_source: PinSource | None = None) -> list[TokenInfo]:
    """Slots with a token, and the keys and certificates each shows (public objects only,
    unless a PIN is given)."""
    module = _module(module_path)
    with module.lock:
        return _list_tokens(module, pin_source)


def _list_tokens(module: _Module, pin_source: PinSource | None) -> list[TokenInfo]:
    lib = module.lib
    result = []
    try:
        slots = lib.get_slots(token_present=True)
    except p11e.PKCS11Error as exc:
        raise TokenError(
            f"cannot list the token slots: {type(exc).__name__}",
            f"không liệt kê được các khe token ({type(exc).__name__})",
        ) from exc
    for slot in slots:
        try:
            token = slot.get_token()
        except (p11e.TokenNotPresent, p11e.TokenNotRecognised):
            continue
        if not token.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED:
            continue  # an empty slot SoftHSM2 keeps for the next token
        objects: list[TokenObject] = []
        login_required = bool(token.flags & pkcs11.TokenFlag.LOGIN_REQUIRED)
        login: tuple[int, str, str] | None = None
        session: Any = None
        try:
            if pin_source is not None and login_required:
                # through the shared login: a use signing meanwhile stays logged in
                session, login = _acquire(module, token, pin_source)
            else:
                session = token.open()
        except (p11e.PKCS11Error, PinLocked, TokenError):
            session = None
        if session is not None:
            try:
                for obj in session.get_objects():
                    cls = _attr(obj, Attribute.CLASS)
                    label = str(_attr(obj, Attribute.LABEL) or "")
                    id_hex = bytes(_attr(obj, Attribute.ID) or b"").hex()
                    if cls == ObjectClass.CERTIFICATE:
                        cert = x509.Certificate.load(bytes(obj[Attribute.VALUE]))
                        validity = cert["tbs_certificate"]["validity"]
                        detail = (
                            f"{cert.subject.human_friendly}; issuer "
                            f"{cert.issuer.human_friendly}; valid until "
                            f"{validity['not_after'].native:%Y-%m-%d}"
                        )
                        objects.append(
                            TokenObject(
                                kind="certificate", label=label, id_hex=id_hex, detail=detail
                            )
                        )
                    elif cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                        key_type = _attr(obj, Attribute.KEY_TYPE)
                        kind = "private key" if cls == ObjectClass.PRIVATE_KEY else "public key"
                        detail = key_type.name if key_type is not None else "?"
                        bits = _attr(obj, Attribute.MODULUS_BITS)
                        if bits:
                            detail += f"-{bits}"
                        objects.append(
                            TokenObject(kind=kind, label=label, id_hex=id_hex, detail=detail)
                        )
            finally:
                _release(module, login, session)
        result.append(
            TokenInfo(
                slot_id=int(slot.slot_id),
                label=str(token.label),
                serial=bytes(token.serial).decode("ascii", "replace").strip(),
                manufacturer=str(token.manufacturer_id),
                model=str(token.model),
                login_required=login_required,
                objects=tuple(objects),
            )
        )
    return result

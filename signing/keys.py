"""Keys behind one small async protocol.

PAdES and XML code see only :class:`KeySigner`: a certificate, its chain, and one coroutine that
signs bytes. Implementations: :class:`InMemoryKey` (a PKCS#12 file, or a development key),
:class:`signing.pkcs11.Pkcs11Key` (a token or HSM). Two-phase external signing lives in
:mod:`signing.external`, because there the key is not reachable at all.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from asn1crypto import algos, x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import (
    CertificateNotFound,
    CertificateUnusable,
    InputNotFound,
    InputUnreadable,
    PinIncorrect,
)
from validation import DevelopmentModeWarning as DevelopmentModeWarning  # re-exported
from validation import os_reason

KeyAlgorithm = Literal["rsa", "ec"]

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class FileKeyWarning(UserWarning):
    """A key read from a file (PKCS#12) is weaker than one that never leaves a token. A
    legitimate production key source, so an ordinary warning, not a development one."""

    def __init__(self, en: str, vi: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en


@runtime_checkable
class KeySigner(Protocol):
    """A private key and its certificate chain, able to sign."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        """Intermediate (and possibly root) certificates, signer's excluded."""
        ...

    @property
    def algorithm(self) -> KeyAlgorithm: ...

    @property
    def pss(self) -> bool:
        """For RSA: sign with RSASSA-PSS (salt = digest length) instead of PKCS#1 v1.5."""
        ...

    async def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Hash ``data`` with ``digest_algorithm`` and sign it; ECDSA values DER-encoded."""
        ...


def digest_algorithm_for(key: KeySigner) -> str:
    """SHA-256 for everything up to RSA-3072 / P-256, stronger hashes for stronger keys."""
    info = key.certificate.public_key
    if key.algorithm == "ec":
        curve_bits = info.bit_size
        return "sha512" if curve_bits > 384 else "sha384" if curve_bits > 256 else "sha256"
    return "sha256"


def signature_mechanism(key: KeySigner, digest_algorithm: str) -> algos.SignedDigestAlgorithm:
    """The CMS/XML signature algorithm identifier this key produces for ``digest_algorithm``."""
    if key.algorithm == "ec":
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest_algorithm}_ecdsa"})
    if key.pss:
        size = HASHES[digest_algorithm].digest_size
        return algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": algos.RSASSAPSSParams(
                    {
                        "hash_algorithm": {"algorithm": digest_algorithm},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": digest_algorithm},
                        },
                        "salt_length": size,
                    }
                ),
            }
        )
    return algos.SignedDigestAlgorithm({"algorithm": f"{digest_algorithm}_rsa"})


def check_certificate_usable(cert: x509.Certificate, at: datetime) -> None:
    """Refuse a certificate that is outside its validity period or may not sign documents."""
    subject = cert.subject.human_friendly
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if at < not_before:
        raise CertificateUnusable(
            f"the certificate of {subject} is not valid before {not_before:%Y-%m-%d %H:%M} UTC",
            f"chứng thư số của {subject} chưa có hiệu lực (từ {not_before:%d/%m/%Y %H:%M} UTC)",
        )
    if at > not_after:
        raise CertificateUnusable(
            f"the certificate of {subject} expired on {not_after:%Y-%m-%d %H:%M} UTC",
            f"chứng thư số của {subject} đã hết hạn ngày {not_after:%d/%m/%Y %H:%M} UTC",
        )
    usage = cert.key_usage_value
    if usage is not None and not ({"digital_signature", "non_repudiation"} & set(usage.native)):
        raise CertificateUnusable(
            f"the certificate of {subject} does not allow signing documents "
            "(key usage lacks digitalSignature and nonRepudiation)",
            f"chứng thư số của {subject} không được phép dùng để ký văn bản "
            "(key usage không có digitalSignature hay nonRepudiation)",
        )


def complete_chain(
    cert: x509.Certificate, pool: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """Issuers of ``cert`` found in ``pool``, nearest first, up to a self-signed root."""
    chain: list[x509.Certificate] = []
    current = cert
    seen = {cert.sha256}
    while current.self_signed == "no":
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer
                and c.sha256 not in seen
                and (
                    current.authority_key_identifier is None
                    or c.key_identifier is None
                    or c.key_identifier == current.authority_key_identifier
                )
            ),
            None,
        )
        if issuer is None:
            break
        chain.append(issuer)
        seen.add(issuer.sha256)
        current = issuer
    return chain


class CertifiedKey:
    """What every :class:`KeySigner` shares: the certificate, its chain, the algorithm and
    the padding choice. Subclasses add ``sign_raw``."""

    def __init__(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], *, pss: bool
    ) -> None:
        self._certificate = certificate
        self._chain = tuple(chain)
        self._algorithm: KeyAlgorithm = "ec" if certificate.public_key.algorithm == "ec" else "rsa"
        self._pss = pss and self._algorithm == "rsa"

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        return self._chain

    @property
    def algorithm(self) -> KeyAlgorithm:
        return self._algorithm

    @property
    def pss(self) -> bool:
        return self._pss


class InMemoryKey(CertifiedKey):
    """A private key held in this process: a PKCS#12 file, or a development key.

    The key object is loaded once and kept, so that each signature costs one private-key
    operation and nothing else.
    """

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        pss: bool = False,
    ) -> None:
        super().__init__(certificate, chain, pss=pss)
        self._key = private_key

    def with_more_certificates(self, pool: Sequence[x509.Certificate]) -> InMemoryKey:
        """The same key, its chain completed from ``pool``."""
        chain = complete_chain(self._certificate, [*self._chain, *pool])
        return InMemoryKey(self._key, self._certificate, chain, pss=self._pss)

    def sign_sync(self, data: bytes, digest_algorithm: str) -> bytes:
        hash_algo = HASHES[digest_algorithm]()
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algo))
        if self._pss:
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(hash_algo), salt_length=hash_algo.digest_size
            )
        else:
            pad = padding.PKCS1v15()
        return self._key.sign(data, pad, hash_algo)

    async def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        # An RSA-2048 operation takes about a millisecond: cheaper in place than a thread hop.
        return self.sign_sync(data, digest_algorithm)


def load_pkcs12(path: Path, password: bytes | None, *, pss: bool = False) -> InMemoryKey:
    """Load a PKCS#12 file; warns that a file key is weaker than a token."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputNotFound(
            f"PKCS#12 file {path} not found", f"không tìm thấy tệp PKCS#12 {path}"
        ) from exc
    except OSError as exc:
        en, vi = os_reason(exc)
        raise InputUnreadable(
            f"cannot read PKCS#12 file {path}: {en}", f"không đọc được tệp PKCS#12 {path}: {vi}"
        ) from exc
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except ValueError as exc:
        raise PinIncorrect(
            f"wrong password for {path} (or not a PKCS#12 file)",
            f"sai mật khẩu của {path} (hoặc không phải tệp PKCS#12)",
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise InputUnreadable(
            f"{path} uses an unsupported algorithm", f"{path} dùng thuật toán không hỗ trợ"
        ) from exc
    key = bundle.key
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InputUnreadable(
            f"{path} holds no RSA or EC private key",
            f"{path} không chứa khóa bí mật RSA hay EC",
        )
    if bundle.cert is None:
        raise CertificateNotFound(
            f"{path} holds no certificate for its key",
            f"{path} không chứa chứng thư số của khóa",
        )
    warnings.warn(
        FileKeyWarning(
            f"signing with a key read from the file {path}: a key on a USB token or HSM is safer",
            f"ký bằng khóa đọc từ tệp {path}: khóa trên USB token hoặc HSM an toàn hơn",
        ),
        stacklevel=2,
    )
    cert = x509.Certificate.load(bundle.cert.certificate.public_bytes(serialization.Encoding.DER))
    chain = [
        x509.Certificate.load(c.certificate.public_bytes(serialization.Encoding.DER))
        for c in bundle.additional_certs
    ]
    return InMemoryKey(key, cert, chain, pss=pss)


class PyhankoSigner(signers.Signer):
    """pyHanko's ``Signer`` in front of a :class:`KeySigner`: CMS assembly stays in pyHanko,
    the key stays behind the protocol."""

    def __init__(self, key: KeySigner, *, digest_algorithm: str | None = None) -> None:
        self.key = key
        self.digest_algorithm = digest_algorithm or digest_algorithm_for(key)
        self._placeholder = _signature_size(key)
        super().__init__(
            prefer_pss=key.pss,
            signing_cert=key.certificate,
            cert_registry=SimpleCertificateStore.from_certs([key.certificate, *key.chain]),
            signature_mechanism=signature_mechanism(key, self.digest_algorithm),
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self._placeholder)
        return await self.key.sign_raw(data, digest_algorithm)


def _signature_size(key: KeySigner) -> int:
    """Upper bound of a raw signature's size, for placeholders."""
    bits: int = key.certificate.public_key.bit_size
    if key.algorithm == "ec":
        # DER SEQUENCE of two INTEGERs, each up to one byte longer than the field size
        return 2 * ((bits + 7) // 8 + 3) + 4
    return (bits + 7) // 8

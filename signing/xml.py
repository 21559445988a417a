"""XML signatures: enveloped XMLDSig, and XAdES baseline B-B and B-T (ETSI EN 319 132-1).

signxml does the XML work: references, canonicalisation, ``ds:SignedInfo``, ``ds:KeyInfo``
and, for XAdES B-B, the ``xades:SignedProperties`` (SigningTime, SigningCertificateV2,
DataObjectFormat). It is the maintained Python XMLDSig library and the one in our lock file;
endesive would need oscrypto, which does not load on our OpenSSL. signxml has no XAdES B-T, so
this module adds the ``xades:SignatureTimeStamp`` itself once signxml is done: an RFC 3161
token over the canonicalised ``ds:SignatureValue``, put in ``xades:UnsignedSignatureProperties``.

signxml signs synchronously through ``key.sign()``. It runs here in a worker thread with a
small bridge as its "private key": each ``sign()`` call is sent to the event loop that owns the
:class:`~signing.keys.KeySigner` and waited for in the worker thread, so a PKCS#11 token is
used exactly as for PAdES.

What we measured (signxml 5.2.0, lxml 6.1, xmlsec1 1.2.37) and designed around:

- signxml digests the XAdES ``SignedProperties`` and ``KeyInfo`` references with the
  signature's canonicalisation but writes no ``Transforms`` for them, so verifiers apply the
  default inclusive C14N: with exclusive C14N the digests are wrong. XAdES therefore uses
  inclusive C14N 1.0 (:class:`XmlSignatureSpec` refuses ``exc-c14n`` for XAdES).
- lxml only implements C14N 1.0 and exclusive C14N; signxml computes "C14N 1.1" with 1.0.
  We only offer what is really computed.
- signxml renders the inclusive C14N of a subtree (``ds:SignedInfo``, the XAdES
  ``SignedProperties`` and ``KeyInfo``, an ``#id`` reference) without the ``xml:*``
  attributes of its ancestors, which C14N 1.0 §2.4 makes the subtree inherit: a document with
  ``xml:lang`` on its root got a signature xmlsec1 refuses. :class:`_XMLSigner` renders it as
  the spec (and xmlsec1) does; exclusive C14N inherits nothing and is left to signxml.
- signxml's ``excise_empty_xmlns_declarations`` is left off: with it, a document that rightly
  carries ``xmlns=""`` (a no-namespace element under a default namespace) gets an invalid
  signature for xmlsec1 and signxml alike, and without it edXML (default namespace) verifies.
- RSASSA-PSS is signxml's ``sha256-rsa-MGF1`` (RFC 9231 / RFC 6931 §2.3.10: MGF1 with the
  same hash, salt length = hash length, trailer 1), which is what our keys produce. The
  parameterised ``xmldsig-more#rsa-pss`` form is not supported by signxml; xmlsec1 1.2
  verifies neither.

Input is parsed with a hardened parser; DTDs and entities are refused. Comments and
processing instructions outside the root element are not kept in the output.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import hashlib
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PSS, AsymmetricPadding
from lxml import etree
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.signer import XMLSigner
from signxml.util import SigningSettings
from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

from signing.errors import InputUnreadable, ServiceUnavailable, SigningError, UsageError
from signing.files import atomic_output, open_input
from signing.keys import KeySigner, check_certificate_usable, digest_algorithm_for
from signing.tsa import HttpTimestamper
from validation import (
    Unparseable,
    canonical_xml,
    element_at,
    element_path,
    parse_untrusted_xml,
    unpinned_prefixes,
)

XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

XmlSignatureKind = Literal["xmldsig", "xades-b-b", "xades-b-t"]
Canonicalization = Literal["exc-c14n", "c14n"]
DigestName = Literal["sha256", "sha384", "sha512"]

_C14N: dict[Canonicalization, CanonicalizationMethod] = {
    "exc-c14n": CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    "c14n": CanonicalizationMethod.CANONICAL_XML_1_0,
}
_DIGESTS: dict[str, DigestAlgorithm] = {
    "sha256": DigestAlgorithm.SHA256,
    "sha384": DigestAlgorithm.SHA384,
    "sha512": DigestAlgorithm.SHA512,
}
_SIGNATURE_METHODS: dict[tuple[str, str], SignatureMethod] = {
    ("rsa", "sha256"): SignatureMethod.RSA_SHA256,
    ("rsa", "sha384"): SignatureMethod.RSA_SHA384,
    ("rsa", "sha512"): SignatureMethod.RSA_SHA512,
    ("rsa-pss", "sha256"): SignatureMethod.SHA256_RSA_MGF1,
    ("rsa-pss", "sha384"): SignatureMethod.SHA384_RSA_MGF1,
    ("rsa-pss", "sha512"): SignatureMethod.SHA512_RSA_MGF1,
    ("ec", "sha256"): SignatureMethod.ECDSA_SHA256,
    ("ec", "sha384"): SignatureMethod.ECDSA_SHA384,
    ("ec", "sha512"): SignatureMethod.ECDSA_SHA512,
}
# The timestamped ds:SignatureValue is canonicalised with exclusive C14N (named in the
# SignatureTimeStamp): its bytes then do not depend on the namespaces where the signature sits.
_TIMESTAMP_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_KEY_TIMEOUT = 300.0
"""Seconds signxml's thread waits for one signature by the key (a token may ask for a touch)."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlSignatureSpec:
    """What kind of XML signature to make."""

    kind: XmlSignatureKind = "xmldsig"
    """``xmldsig``: plain enveloped XMLDSig; ``xades-b-b`` / ``xades-b-t``: XAdES baseline
    (EN 319 132-1), B-T adding a signature timestamp."""
    tsa_urls: tuple[str, ...] = ()
    """Timestamp authorities, tried in order; used by ``xades-b-t`` only."""
    tsa_timeout: float = 10.0
    """Seconds to wait for each timestamp authority."""
    reference_uri: str = ""
    """``""``: the whole document (enveloped); ``"#id"``: only the element whose ``Id``
    (``ID``, ``id``, ``xml:id``) is ``id``."""
    c14n: Canonicalization | None = None
    """Canonicalisation of ``SignedInfo`` and the document reference. Default: exclusive C14N
    for XMLDSig, inclusive C14N 1.0 for XAdES (the only one signxml gets right there)."""
    signature_location: str | None = None
    """XPath, from the root element, of the element the signature is appended to (as its last
    child); prefixes ``edXML`` and ``ds`` are known. Default: ``edXMLEnvelope/edXMLHeader``
    for an edXML package (QCVN 102:2016: the signature is the last child of the header),
    else the root element."""
    digest_algorithm: DigestName | None = None
    """Default: what :func:`signing.keys.digest_algorithm_for` picks for the key (SHA-256 up
    to RSA-3072 / P-256)."""

    def __post_init__(self) -> None:
        if self.kind != "xmldsig" and self.c14n == "exc-c14n":
            raise UsageError(
                "XAdES signatures are made with inclusive canonicalisation (c14n): with "
                "exclusive canonicalisation signxml writes wrong SignedProperties digests",
                "chữ ký XAdES phải dùng chuẩn hóa bao hàm (c14n): với chuẩn hóa loại trừ "
                "signxml tính sai giá trị băm của SignedProperties",
            )
        if self.reference_uri and not (
            self.reference_uri.startswith("#") and len(self.reference_uri) > 1
        ):
            raise UsageError(
                f'reference URI {self.reference_uri!r} must be "" (whole document) or "#id"',
                f'URI tham chiếu {self.reference_uri!r} phải là "" (cả văn bản) hoặc "#id"',
            )

    @property
    def canonicalization(self) -> Canonicalization:
        if self.c14n is not None:
            return self.c14n
        return "exc-c14n" if self.kind == "xmldsig" else "c14n"


async def sign_xml(
    data: bytes,
    key: KeySigner,
    spec: XmlSignatureSpec,
    *,
    timestamper: TimeStamper | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """Sign the XML document ``data``; returns the signed document (UTF-8).

    ``timestamper`` is a pyHanko ``TimeStamper`` (default: :class:`HttpTimestamper` over
    ``spec.tsa_urls``), used for ``xades-b-t``. ``signing_time`` (timezone-aware, default
    now) goes into XAdES ``SigningTime`` and is when the certificate must be valid.
    """
    stamper = _timestamper(spec, timestamper)
    if signing_time is None:
        signing_time = datetime.now(UTC).replace(microsecond=0)
    elif signing_time.tzinfo is None:
        raise UsageError("the signing time must carry a time zone", "thời điểm ký phải có múi giờ")
    check_certificate_usable(key.certificate, signing_time)
    digest = spec.digest_algorithm or digest_algorithm_for(key)
    if digest not in _DIGESTS:
        raise UsageError(f"unsupported digest algorithm {digest}", f"không hỗ trợ hàm băm {digest}")
    bridge = _KeyBridge(key, digest, asyncio.get_running_loop())
    root, path = await _in_own_thread(_sign_blocking, data, key, spec, bridge, signing_time)
    if stamper is not None:
        signature = element_at(root, path)
        imprint = hashlib.new(digest, _signature_value_c14n(signature)).digest()
        try:
            token: cms.ContentInfo = await stamper.async_timestamp(imprint, digest)
        except TimestampRequestError as exc:
            raise ServiceUnavailable(
                f"the timestamp authority sent an unusable reply: {exc}",
                "máy chủ cấp dấu thời gian trả lời không dùng được",
            ) from exc
        finally:
            if timestamper is None and isinstance(stamper, HttpTimestamper):
                await stamper.aclose()  # made here, closed here
        _add_signature_timestamp(signature, token)
    return await asyncio.to_thread(
        etree.tostring, root.getroottree(), xml_declaration=True, encoding="UTF-8"
    )


async def _in_own_thread(func: Callable[..., _T], *args: Any) -> _T:
    """Run ``func`` in a thread of its own, not in the loop's default executor.

    ``func`` waits for the event loop (the key signs there), and the key may itself need the
    default executor (PKCS#11 calls run there): with every default thread taken by a waiting
    signer, nothing would move. Measured: 8 concurrent signatures with such a key hung on a
    4-CPU machine. Callers bound the concurrency (one thread per signature in progress).
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lienthong-xml")
    try:
        return await asyncio.get_running_loop().run_in_executor(
            pool, functools.partial(func, *args)
        )
    finally:
        pool.shutdown(wait=False)


def _timestamper(spec: XmlSignatureSpec, given: TimeStamper | None) -> TimeStamper | None:
    """The TSA client for B-T; ``None`` for the other kinds."""
    if spec.kind != "xades-b-t":
        return None
    if given is not None:
        return given
    if not spec.tsa_urls:
        raise UsageError(
            "XAdES B-T needs a timestamp authority",
            "XAdES B-T cần máy chủ cấp dấu thời gian",
            needs="timestamp_authority",
        )
    return HttpTimestamper(spec.tsa_urls, timeout=spec.tsa_timeout)


# -- the blocking part (worker thread) ----------------------------------------------------


def _sign_blocking(
    data: bytes,
    key: KeySigner,
    spec: XmlSignatureSpec,
    bridge: _KeyBridge,
    signing_time: datetime,
) -> tuple[etree._Element, tuple[int, ...]]:
    """Parse, place, sign with signxml; the signed root and the signature's child-index path."""
    root = _parse(data)
    edxml = root.tag == f"{{{EDXML_NS}}}edXML"
    parent = _signature_parent(root, spec.signature_location, edxml=edxml)
    if root.find(f".//{{{XMLDSIG_NS}}}Signature[@Id='placeholder']") is not None:
        raise InputUnreadable(
            "the document already holds a signature placeholder (ds:Signature Id=placeholder)",
            "văn bản đã có sẵn chỗ đặt chữ ký (ds:Signature Id=placeholder)",
        )
    placeholder = etree.SubElement(
        parent, f"{{{XMLDSIG_NS}}}Signature", nsmap={"ds": XMLDSIG_NS}, Id="placeholder"
    )
    path = element_path(placeholder)
    c14n = _C14N[spec.canonicalization]
    method = _SIGNATURE_METHODS[(_key_family(key), bridge.digest)]
    signer: XMLSigner
    if spec.kind == "xmldsig":
        signer = _XMLSigner(
            signature_algorithm=method,
            digest_algorithm=_DIGESTS[bridge.digest],
            c14n_algorithm=c14n,
        )
    else:
        signer = _XAdESSigner(
            signing_time=signing_time,
            data_object_format=XAdESDataObjectFormat(
                Description="edXML package (QCVN 102:2016)" if edxml else "XML document",
                MimeType="text/xml",
            ),
            signature_algorithm=method,
            digest_algorithm=_DIGESTS[bridge.digest],
            c14n_algorithm=c14n,
        )
    # exclusive C14N signs a prefix's declaration only where the prefix names an element or
    # attribute: prefixes used inside values (xsi:type="kq:T") are listed in
    # InclusiveNamespaces, so that their declarations are signed (the validator refuses
    # them otherwise)
    listed = (
        sorted({prefix for _, _, prefix in unpinned_prefixes(root)})
        if c14n == CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
        else []
    )
    try:
        signed = signer.sign(
            root,
            # signxml only calls key.sign() and reads key.key_size; it checks no type.
            key=cast(Any, bridge),
            cert=_certificates(key),
            reference_uri=spec.reference_uri or None,
            always_add_key_value=False,
            inclusive_ns_prefixes=listed or None,
        )
    except SignXMLException as exc:
        raise _translate(exc, spec) from exc
    return signed, path


def _parse(data: bytes) -> etree._Element:
    """The validation room's hardened parser (no DTD, entities or network), its refusals as
    this room's errors."""
    try:
        return parse_untrusted_xml(data)
    except Unparseable as exc:
        raise InputUnreadable(exc.finding.en, exc.finding.vi) from exc


def _signature_parent(root: etree._Element, location: str | None, *, edxml: bool) -> etree._Element:
    if location is None and not edxml:
        return root
    if location is None:
        header = root.find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader")
        if header is None:
            raise InputUnreadable(
                "edXML package without edXMLEnvelope/edXMLHeader",
                "gói edXML không có edXMLEnvelope/edXMLHeader",
            )
        existing = [
            child
            for child in header
            if isinstance(child.tag, str) and etree.QName(child).localname == "Signature"
        ]
        if existing:
            raise UsageError(
                "the edXML package already carries a <Signature> in edXMLHeader: "
                "remove it before signing",
                "gói edXML đã có <Signature> trong edXMLHeader: hãy bỏ nó trước khi ký",
            )
        return header
    try:
        found = root.xpath(location, namespaces={"edXML": EDXML_NS, "ds": XMLDSIG_NS})
    except etree.XPathError as exc:
        raise UsageError(
            f"signature location {location!r} is not a valid XPath: {exc}",
            f"vị trí chữ ký {location!r} không phải XPath hợp lệ",
        ) from exc
    elements = (
        [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []
    )
    if len(elements) != 1:
        raise UsageError(
            f"signature location {location!r} must select exactly one element "
            f"(it selects {len(elements)})",
            f"vị trí chữ ký {location!r} phải chọn đúng một phần tử (đang chọn {len(elements)})",
        )
    return elements[0]


def _key_family(key: KeySigner) -> str:
    if key.algorithm == "ec":
        return "ec"
    return "rsa-pss" if key.pss else "rsa"


def _certificates(key: KeySigner) -> list[x509.Certificate]:
    certs: list[asn1_x509.Certificate] = [key.certificate]
    for cert in key.chain:
        if all(cert.dump() != c.dump() for c in certs):
            certs.append(cert)
    return [x509.load_der_x509_certificate(c.dump()) for c in certs]


def _translate(exc: SignXMLException, spec: XmlSignatureSpec) -> SigningError:
    text = str(exc)
    if "reference URI" in text or "Ambiguous reference" in text:
        return UsageError(
            f"cannot sign {spec.reference_uri}: {text}",
            f"không ký được {spec.reference_uri}: {text}",
        )
    return SigningError(
        f"the XML signature could not be made: {text}", f"không tạo được chữ ký XML: {text}"
    )


class _KeyBridge:
    """What signxml takes for a private key: ``sign()`` and ``key_size``.

    Runs in signxml's worker thread; each signature is made by the async
    :class:`KeySigner` on the event loop that called :func:`sign_xml`.
    """

    def __init__(self, key: KeySigner, digest: str, loop: asyncio.AbstractEventLoop) -> None:
        self._key = key
        self.digest = digest
        self._loop = loop

    @property
    def key_size(self) -> int:
        bits: int = self._key.certificate.public_key.bit_size
        return bits

    def sign(
        self,
        data: bytes,
        padding: AsymmetricPadding | None = None,
        algorithm: hashes.HashAlgorithm | None = None,
        signature_algorithm: ec.EllipticCurveSignatureAlgorithm | None = None,
    ) -> bytes:
        # signxml passes these by keyword, with cryptography's names.
        if isinstance(signature_algorithm, ec.ECDSA) and isinstance(
            signature_algorithm.algorithm, hashes.HashAlgorithm
        ):
            algorithm = signature_algorithm.algorithm
        if algorithm is None or algorithm.name != self.digest:
            asked = algorithm.name if algorithm else "no"
            raise SigningError(
                f"signxml asked for a {asked} digest, the signature uses {self.digest}",
                f"signxml yêu cầu hàm băm {asked}, chữ ký dùng {self.digest}",
            )
        if self._key.algorithm == "rsa" and isinstance(padding, PSS) != self._key.pss:
            raise SigningError(
                "signxml asked for another RSA padding than the key makes",
                "signxml yêu cầu kiểu đệm RSA khác với kiểu của khóa",
            )
        call: Coroutine[Any, Any, bytes] = self._key.sign_raw(data, self.digest)
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return future.result(timeout=_KEY_TIMEOUT)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise SigningError(
                f"the key did not sign within {_KEY_TIMEOUT:.0f} seconds",
                f"khóa không ký xong trong {_KEY_TIMEOUT:.0f} giây",
            ) from exc


def _is_exclusive(method: CanonicalizationMethod) -> bool:
    return method.value.startswith(_EXC_C14N_NS)


class _XMLSigner(XMLSigner):
    """signxml's signer, its inclusive C14N of subtrees as the spec defines it: each subtree
    rendered as the root of a copy, with the ``xml:*`` attributes it inherits."""

    def _c14n(
        self,
        nodes: Any,
        algorithm: CanonicalizationMethod,
        inclusive_ns_prefixes: Any = None,
    ) -> bytes:
        if _is_exclusive(algorithm):
            result: bytes = super()._c14n(nodes, algorithm, inclusive_ns_prefixes)
            return result
        placed: dict[int, etree._Element] = getattr(self, "_placed", {})
        return b"".join(
            canonical_xml(node, algorithm, placed=placed.get(id(node)))
            for node in (nodes if isinstance(nodes, list) else [nodes])
        )

    def _build_transforms_for_reference(
        self, *, transforms_node: Any, reference: Any, exclude_c14n_transform_element: bool = True
    ) -> None:
        """signxml digests an enveloped reference with its InclusiveNamespaces but writes its
        exclusive C14N transform without them (verifiers then compute another digest): the
        PrefixList is written here."""
        super()._build_transforms_for_reference(
            transforms_node=transforms_node,
            reference=reference,
            exclude_c14n_transform_element=exclude_c14n_transform_element,
        )
        if (
            reference.inclusive_ns_prefixes
            and not exclude_c14n_transform_element
            and _is_exclusive(reference.c14n_method)
            and len(transforms_node)
            and transforms_node[-1].find(f"{{{_EXC_C14N_NS}}}InclusiveNamespaces") is None
        ):
            etree.SubElement(
                transforms_node[-1],
                f"{{{_EXC_C14N_NS}}}InclusiveNamespaces",
                PrefixList=" ".join(reference.inclusive_ns_prefixes),
            )

    def _get_c14n_inputs_from_references(self, doc_root: Any, references: Any) -> Any:
        """signxml copies an ``#id`` reference's element out of the document before
        canonicalising it: remember where the copy stood, so that it inherits the ``xml:*``
        attributes of its ancestors there (the validation room's C14N, shared)."""
        inputs, resolved = super()._get_c14n_inputs_from_references(doc_root, references)
        placed: dict[int, etree._Element] = {}
        for copy, reference in zip(inputs, resolved, strict=True):
            if not _is_exclusive(reference.c14n_method or self.c14n_alg):
                original = self._resolve_reference(doc_root, {"URI": reference.URI})  # type: ignore[no-untyped-call]
                placed[id(copy)] = original
        self._placed = placed
        return inputs, resolved


class _XAdESSigner(_XMLSigner, XAdESSigner):
    """signxml's XAdES signer with the signing time passed in instead of read from the clock."""

    def __init__(self, *, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signing_time = signing_time

    def add_signing_time(
        self,
        signed_signature_properties: etree._Element,
        sig_root: etree._Element,
        signing_settings: SigningSettings,
    ) -> None:
        element = etree.SubElement(
            signed_signature_properties, f"{{{XADES_NS}}}SigningTime", nsmap=self.namespaces
        )
        element.text = self._signing_time.isoformat(timespec="seconds")


# -- XAdES B-T ----------------------------------------------------------------------------


def _signature_value_c14n(signature: etree._Element) -> bytes:
    value = signature.find(f"{{{XMLDSIG_NS}}}SignatureValue")
    if value is None:
        raise SigningError(
            "signxml wrote no ds:SignatureValue", "lỗi nội bộ: chữ ký XML thiếu SignatureValue"
        )
    return etree.tostring(value, method="c14n", exclusive=True, with_comments=False)


def _add_signature_timestamp(signature: etree._Element, token: cms.ContentInfo) -> None:
    """Add ``xades:UnsignedProperties/UnsignedSignatureProperties/SignatureTimeStamp``."""
    qualifying = signature.find(f"{{{XMLDSIG_NS}}}Object/{{{XADES_NS}}}QualifyingProperties")
    if qualifying is None:
        raise SigningError(
            "signxml wrote no xades:QualifyingProperties",
            "lỗi nội bộ: chữ ký XAdES thiếu QualifyingProperties",
        )
    unsigned = qualifying.find(f"{{{XADES_NS}}}UnsignedProperties")
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, f"{{{XADES_NS}}}UnsignedProperties")
    usp = unsigned.find(f"{{{XADES_NS}}}UnsignedSignatureProperties")
    if usp is None:
        usp = etree.SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
    stamp = etree.SubElement(
        usp,
        f"{{{XADES_NS}}}SignatureTimeStamp",
        Id=f"{signature.get('Id', 'Signature')}-SignatureTimeStamp",
    )
    etree.SubElement(
        stamp, f"{{{XMLDSIG_NS}}}CanonicalizationMethod", Algorithm=_TIMESTAMP_C14N.value
    )
    encapsulated = etree.SubElement(stamp, f"{{{XADES_NS}}}EncapsulatedTimeStamp")
    encapsulated.text = base64.b64encode(token.dump()).decode("ascii")


async def sign_xml_file(source: Path, output: Path, key: KeySigner, spec: XmlSignatureSpec) -> None:
    """Sign the XML file ``source`` into ``output``; ``output`` appears only when complete."""

    def read() -> bytes:
        with open_input(source) as handle:
            return handle.read()

    signed = await sign_xml(await asyncio.to_thread(read), key, spec)

    def write() -> None:
        with atomic_output(output) as out:
            out.write(signed)

    await asyncio.to_thread(write)

"""PAdES baseline signatures (B-B, B-T, B-LT, B-LTA) through pyHanko.

:class:`PadesSigner` is built once per key and signature spec and signs any number of
documents: the key stays loaded (one login for a batch), the CMS size is reserved up front
instead of being estimated by a dry run, and the document is streamed from file to file.
PDF assembly, CMS and DSS are pyHanko's; this module chooses the options and the place.
"""

from __future__ import annotations

import contextlib
import enum
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import cms, tsp, x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError, PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from signing.appearance import (
    AppearanceSpec,
    ExistingField,
    Profile,
    ResolvedAppearance,
    resolve_appearance,
)
from signing.errors import (
    CertificateUnusable,
    InputUnreadable,
    ServiceUnavailable,
    SigningError,
    UsageError,
)
from signing.files import atomic_output, open_input
from signing.keys import KeySigner, PyhankoSigner, check_certificate_usable
from signing.tsa import HttpTimestamper
from validation import NUMBER_DATE_FIELDS

IO_CHUNK = 1 << 20


class Level(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def needs_timestamp(self) -> bool:
        return self is not Level.B_B

    @property
    def needs_validation_data(self) -> bool:
        return self in (Level.B_LT, Level.B_LTA)


@dataclass(frozen=True, slots=True, kw_only=True)
class PadesSpec:
    """What kind of PDF signature to make."""

    level: Level = Level.B_B
    appearance: AppearanceSpec = field(default_factory=AppearanceSpec)
    tsa_urls: tuple[str, ...] = ()
    """Timestamp authorities, tried in order (needed from B-T up)."""
    trust_roots: tuple[x509.Certificate, ...] = ()
    """B-LT/B-LTA: trust anchors for the signer's path; default: the self-signed top of the
    key's chain."""
    reason: str | None = None
    location: str | None = None
    tsa_timeout: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedPdf:
    """What was signed."""

    field_name: str
    signer: str
    signing_time: datetime
    level: Level
    profile: Profile


def _reserve(key: KeySigner, level: Level) -> int:
    """Room to reserve for the CMS blob, in hex digits as pyHanko counts it (pyHanko would
    otherwise sign twice to measure it)."""
    certs = sum(len(c.dump()) for c in (key.certificate, *key.chain))
    key_bits: int = key.certificate.public_key.bit_size
    size = certs + 2 * key_bits // 8 + 4096
    if level.needs_timestamp:
        size += 12288
    return 2 * size


class _FixedAttribute(CMSAttributeProvider):
    def __init__(self, attribute_type: str, value: Any) -> None:
        self.attribute_type = attribute_type
        self._value = value

    async def build_attr_value(self, dry_run: bool = False) -> Any:
        return self._value


class PadesSignedAttributes(SignedAttributeProviderSpec):
    """The CMS signed attributes of a PAdES baseline signature beyond content type and message
    digest: ``signing-certificate-v2``, built once per key.

    pyHanko's default PAdES provider rebuilds it for every signature around the issuer name,
    and asn1crypto then re-encodes that structure each time the attributes are written out:
    about 80 % of a signature's time (benchmarks/signing.py). A value loaded back from its DER
    keeps its encoding. Same bytes as pyHanko's own (signing time goes into the signature
    dictionary's /M, as PAdES wants); extend this if CAdES attributes such as a signature
    policy or a commitment type are ever needed.
    """

    def __init__(self, certificate: x509.Certificate) -> None:
        value = as_signing_certificate_v2(certificate)
        self._value = tsp.SigningCertificateV2.load(value.dump())

    def signed_attr_providers(
        self, data_digest: bytes, digest_algorithm: str
    ) -> Iterator[CMSAttributeProvider]:
        yield _FixedAttribute("signing_certificate_v2", self._value)


class PadesSigner:
    """Signs PDFs with one key and one spec; reuse it for a batch.

    The timestamp authority's connections it opens (when it makes its own timestamper) are
    closed at the end of each signature, or, inside ``async with signer:``, at the end of the
    block: the signatures of the block then share them."""

    def __init__(
        self,
        key: KeySigner,
        spec: PadesSpec,
        *,
        timestamper: Any | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if spec.level.needs_timestamp and timestamper is None and not spec.tsa_urls:
            raise UsageError(
                f"level {spec.level} needs a timestamp authority",
                f"mức {spec.level} cần máy chủ cấp dấu thời gian",
                needs="timestamp_authority",
            )
        self.key = key
        self.spec = spec
        self.clock = clock
        self._signer = PyhankoSigner(key)
        self._signer.signed_attr_prov_spec = PadesSignedAttributes(key.certificate)
        self._timestamper = (
            timestamper
            if timestamper is not None
            else HttpTimestamper(spec.tsa_urls, timeout=spec.tsa_timeout)
            if spec.level.needs_timestamp
            else None
        )
        # a timestamper made here is closed here: after each signature, or after the batch
        # when the signer is used as ``async with`` (its TSA connections then serve them all)
        self._own_timestamper = (
            self._timestamper if timestamper is None and self._timestamper is not None else None
        )
        self._users = 0
        self._reserved = _reserve(key, spec.level)
        self._signer_name = _common_name(key.certificate)

    async def __aenter__(self) -> PadesSigner:
        self._users += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._release()

    async def _release(self) -> None:
        self._users -= 1
        if self._users == 0 and self._own_timestamper is not None:
            await self._own_timestamper.aclose()

    @property
    def digest_algorithm(self) -> str:
        return str(self._signer.digest_algorithm)

    def _validation_context(self, fetchers: Fetchers | None) -> ValidationContext | None:
        if fetchers is None:
            return None
        roots = list(self.spec.trust_roots) or [c for c in self.key.chain if c.self_signed != "no"]
        if not roots:
            raise UsageError(
                f"level {self.spec.level} needs the root certificate of the signer's chain",
                f"mức {self.spec.level} cần chứng thư gốc của chuỗi chứng thư người ký",
                needs="root_certificate",
            )
        return _fetching_context(roots, self.key.chain, fetchers)

    async def sign_stream(
        self, source: BinaryIO, output: BinaryIO, *, pdf_bytes: Callable[[], bytes] | None = None
    ) -> SignedPdf:
        """Sign the PDF in ``source`` into ``output`` (seekable, readable: a file or BytesIO)."""
        now = self.clock().replace(microsecond=0)
        check_certificate_usable(self.key.certificate, now)
        spec = self.spec
        writer = open_pdf_writer(source)

        def read_all() -> bytes:
            if pdf_bytes is not None:
                return pdf_bytes()
            source.seek(0)
            return source.read()

        resolved = resolve_appearance(
            spec.appearance,
            writer,
            pdf_bytes=read_all,
            signer_name=self._signer_name,
            signing_time=now,
        )
        self._users += 1
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(self._release)
            fetchers = None
            if spec.level.needs_validation_data:
                fetchers = await stack.enter_async_context(
                    AIOHttpFetcherBackend(per_request_timeout=spec.tsa_timeout)
                )
            return await self._sign(
                source_writer=writer, output=output, resolved=resolved, fetchers=fetchers, now=now
            )

    def _session(
        self,
        writer: IncrementalPdfFileWriter,
        resolved: ResolvedAppearance,
        fetchers: Fetchers | None,
        now: datetime,
        signer: signers.Signer,
    ) -> Any:
        spec = self.spec
        existing = isinstance(spec.appearance.placement, ExistingField)
        field_spec = None
        lock = profile_lock(spec.appearance.profile, [*_field_names(writer), resolved.field_name])
        if not existing:
            box = resolved.box
            field_spec = fields.SigFieldSpec(
                sig_field_name=resolved.field_name,
                on_page=box.page if box else 0,
                box=(box.x0, box.y0, box.x1, box.y1) if box else None,  # type: ignore[arg-type]
                field_mdp_spec=None if lock is None else lock[0],
                doc_mdp_update_value=None if lock is None else lock[1],
            )
        elif lock is not None:
            _lock_existing_field(writer, resolved.field_name, lock)
        meta = signers.PdfSignatureMetadata(
            field_name=resolved.field_name,
            md_algorithm=self._signer.digest_algorithm,
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=spec.level.needs_validation_data,
            use_pades_lta=spec.level is Level.B_LTA,
            validation_context=self._validation_context(fetchers),
            reason=spec.reason,
            location=spec.location,
            signer_key_usage=set(),
            # what the field's lock allows (else pyHanko warns that it lowered its default)
            docmdp_permissions=lock[1]
            if lock is not None and lock[1] is not None
            else MDPPerm.FILL_FORMS,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=self._timestamper,
            stamp_style=resolved.style,
            new_field_spec=field_spec,
        )
        session = pdf_signer.init_signing_session(writer, existing_fields_only=existing)
        session.system_time = now
        return session

    async def _sign(
        self,
        *,
        source_writer: IncrementalPdfFileWriter,
        output: BinaryIO,
        resolved: ResolvedAppearance,
        fetchers: Fetchers | None,
        now: datetime,
    ) -> SignedPdf:
        writer = source_writer
        with translate_errors(self._signer_name):
            session = self._session(writer, resolved, fetchers, now, self._signer)
            validation_info = await session.perform_presign_validation(writer)
            tbs = session.prepare_tbs_document(
                validation_info=validation_info,
                bytes_reserved=self._reserved,
                appearance_text_params=resolved.text_params,
            )
            prepared, out = tbs.digest_tbs_document(output=output, chunk_size=IO_CHUNK)
            post = await tbs.perform_signature(
                document_digest=prepared.document_digest,
                pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                    signing_time=now,
                    adobe_revinfo_attr=(
                        None if validation_info is None else validation_info.adobe_revinfo_attr
                    ),
                ),
            )
            await post.post_signature_processing(out, chunk_size=IO_CHUNK)
        return self._result(resolved, now)

    def _result(self, resolved: ResolvedAppearance, now: datetime) -> SignedPdf:
        return SignedPdf(
            field_name=resolved.field_name,
            signer=self._signer_name,
            signing_time=now,
            level=self.spec.level,
            profile=self.spec.appearance.profile,
        )

    async def prepare_external(
        self, source: BinaryIO, output: BinaryIO
    ) -> tuple[SignedPdf, PreparedByteRangeDigest, cms.CMSAttributes]:
        """Phase one of two-phase signing: write the document with an empty signature into
        ``output`` and return the signed attributes the key must sign (B-B and B-T)."""
        if self.spec.level.needs_validation_data:
            raise UsageError(
                "two-phase signing makes B-B or B-T signatures; extend to B-LT afterwards",
                "ký hai bước chỉ tạo chữ ký B-B hoặc B-T",
            )
        now = self.clock().replace(microsecond=0)
        check_certificate_usable(self.key.certificate, now)
        writer = open_pdf_writer(source)

        def read_all() -> bytes:
            source.seek(0)
            return source.read()

        resolved = resolve_appearance(
            self.spec.appearance,
            writer,
            pdf_bytes=read_all,
            signer_name=self._signer_name,
            signing_time=now,
        )
        with translate_errors(self._signer_name):
            session = self._session(writer, resolved, None, now, self._signer)
            tbs = session.prepare_tbs_document(
                validation_info=None,
                bytes_reserved=self._reserved,
                appearance_text_params=resolved.text_params,
            )
            prepared, _ = tbs.digest_tbs_document(output=output, chunk_size=IO_CHUNK)
            signed_attrs = await self._signer.signed_attrs(
                prepared.document_digest,
                self._signer.digest_algorithm,
                attr_settings=PdfCMSSignedAttributes(signing_time=now),
                use_pades=True,
                timestamper=None,
            )
        return self._result(resolved, now), prepared, signed_attrs

    async def sign_file(self, source: Path, output: Path) -> SignedPdf:
        """Sign ``source`` into ``output``; ``output`` appears only when complete."""
        with open_input(source) as src, atomic_output(output) as out:
            return await self.sign_stream(src, out)

    async def sign_bytes(self, data: bytes) -> tuple[bytes, SignedPdf]:
        out = io.BytesIO()
        result = await self.sign_stream(io.BytesIO(data), out, pdf_bytes=lambda: data)
        return out.getvalue(), result


def _fetching_context(
    roots: Sequence[x509.Certificate], others: Sequence[x509.Certificate], fetchers: Fetchers
) -> ValidationContext:
    """Where B-LT gets its validation data: paths to ``roots``, revocation fetched online for
    every certificate that declares where to find it."""
    return ValidationContext(
        trust_roots=list(roots),
        other_certs=list(others),
        allow_fetching=True,
        fetchers=fetchers,
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            )
        ),
    )


async def add_validation_data(
    data: bytes, *, trust_roots: Sequence[x509.Certificate], fetch_timeout: float = 10.0
) -> bytes:
    """Take every signature of the document to B-LT: one incremental update whose DSS holds the
    certificates, CRLs and OCSP responses that validate each signature and its timestamp,
    fetched now from the addresses in the certificates. A signature made without a timestamp
    stays B-B with validation data (it is then judged at the validation time, so the data
    must still be current then).

    Later revisions that add only a DSS keep every signature valid (PAdES, Decree 30's legal
    check alike)."""
    if not trust_roots:
        raise UsageError(
            "adding validation data needs the root certificate of the signers' chains",
            "thêm dữ liệu kiểm tra cần chứng thư gốc của chuỗi chứng thư người ký",
        )
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = [
            EmbeddedPdfSignature(reader, ref.get_object(), name)
            for name, value, ref in fields.enumerate_sig_fields(reader, filled_status=True)
            if value is not None
        ]
    except (PdfReadError, PdfError, ValueError, KeyError) as exc:
        raise InputUnreadable(f"not a readable PDF: {exc}", "tệp PDF không đọc được") from exc
    if not signatures:
        raise UsageError("the document has no signature", "văn bản chưa có chữ ký nào")
    async with AIOHttpFetcherBackend(per_request_timeout=fetch_timeout) as fetchers:
        others = [c for sig in signatures for c in sig.other_embedded_certs]
        context = _fetching_context(trust_roots, others, fetchers)
        paths = []
        for sig in signatures:
            with translate_errors(sig.signer_cert.subject.human_friendly):
                paths.extend(await collect_validation_info(sig, context))
    writer = IncrementalPdfFileWriter.from_reader(reader)
    writer.IO_CHUNK_SIZE = IO_CHUNK
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, validation_context=context, paths=paths, embed_roots=True
    )
    out = io.BytesIO()
    try:
        writer.write(out)
    except PdfError as exc:
        raise InputUnreadable(
            f"cannot update the PDF: {exc}", "không cập nhật được tệp PDF"
        ) from exc
    return out.getvalue()


async def extend_to_lta(
    data: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    timestamper: TimeStamper,
    fetch_timeout: float = 10.0,
) -> bytes:
    """Take every signature of the document to B-LTA (ETSI EN 319 142-1): first the
    validation data of every signature and its timestamp in the DSS (:func:`add_validation_data`),
    then one document timestamp over the whole, whose own TSA path goes into the DSS too.
    Both are incremental updates: the signed revisions stay byte-exact."""
    with_data = await add_validation_data(
        data, trust_roots=trust_roots, fetch_timeout=fetch_timeout
    )
    writer = open_pdf_writer(io.BytesIO(with_data))
    out = io.BytesIO()
    async with AIOHttpFetcherBackend(per_request_timeout=fetch_timeout) as fetchers:
        context = _fetching_context(trust_roots, (), fetchers)
        with translate_errors("the timestamp authority"):
            await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, "sha256", validation_context=context, output=out
            )
    return out.getvalue()


@contextlib.contextmanager
def translate_errors(signer_name: str) -> Iterator[None]:
    """pyHanko's and the certificate validator's exceptions, as this room's errors."""
    try:
        yield
    except SigningError:
        raise
    except RevokedError as exc:
        raise CertificateUnusable(
            f"the certificate of {signer_name} is revoked",
            f"chứng thư số của {signer_name} đã bị thu hồi",
        ) from exc
    except InsufficientRevinfoError as exc:
        raise ServiceUnavailable(
            f"could not get revocation data (CRL/OCSP) for {signer_name}: {exc}",
            f"không lấy được thông tin thu hồi (CRL/OCSP) cho {signer_name}",
        ) from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise CertificateUnusable(
            f"the certificate of {signer_name} does not chain to a trusted root: {exc}",
            f"chứng thư số của {signer_name} không dẫn tới chứng thư gốc tin cậy",
        ) from exc
    except (PdfReadError, PdfError) as exc:
        raise InputUnreadable(f"the PDF cannot be signed: {exc}", "không ký được tệp PDF") from exc
    except PyhankoSigningError as exc:
        raise _translate_pyhanko(exc) from exc


def _translate_pyhanko(exc: PyhankoSigningError) -> SigningError:
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, SigningError):
            return cause
        cause = cause.__cause__ or cause.__context__
    if "reserved" in text.lower() or "too small" in text.lower():
        return SigningError(
            f"internal: signature space too small ({text})",
            "lỗi nội bộ: chỗ dành cho chữ ký quá nhỏ",
        )
    return SigningError(f"pyHanko refused to sign: {text}", "thư viện ký PDF từ chối ký văn bản")


def open_pdf_writer(source: BinaryIO) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(source, strict=False)
    except (PdfReadError, PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputUnreadable(f"not a readable PDF: {exc}", "tệp PDF không đọc được") from exc
    # pyHanko copies and hashes in 4 KiB chunks by default; 1 MiB is 3x faster on big files
    writer.IO_CHUNK_SIZE = IO_CHUNK
    if writer.prev.encrypted:
        raise InputUnreadable(
            "the PDF is encrypted: decrypt it before signing",
            "tệp PDF đã bị mã hóa: cần giải mã trước khi ký",
        )
    return writer


def _common_name(cert: x509.Certificate) -> str:
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[0]
    return str(cn or cert.subject.human_friendly)


async def sign_pdf_files(
    signer: PadesSigner,
    jobs: Sequence[tuple[Path, Path]],
    *,
    progress: Callable[[Path, SignedPdf | SigningError], None] | None = None,
) -> list[SignedPdf | SigningError]:
    """Sign several files with one signer (one login); a failure stops only its own file.
    An output that cannot be written (:class:`~validation.OutputNotWritable`: a missing or
    read-only directory, a full disk) stops the batch: the next outputs would fail alike."""
    results: list[SignedPdf | SigningError] = []
    async with signer:  # one set of TSA connections for the batch
        for source, output in jobs:
            try:
                outcome: SignedPdf | SigningError = await signer.sign_file(source, output)
            except SigningError as exc:
                outcome = exc
            results.append(outcome)
            if progress is not None:
                progress(source, outcome)
    return results


def profile_lock(
    profile: Profile, field_names: Sequence[str]
) -> tuple[fields.FieldMDPSpec, MDPPerm | None] | None:
    """What a Decree 30 signature locks (a field ``/Lock`` with a PDF 2.0 ``/P``, so that
    pyHanko's and Acrobat's own analysis agree with the legal check):

    * personal: every field of the document (``field_names``, its own included) except the
      number and date the clerk fills in afterwards (FieldMDP only: a ``/P`` would make
      pyHanko and Acrobat treat it like a certification and refuse the agency's new field);
    * agency, attachment, copy: no changes at all (``/P 1``): only validation data and
      document timestamps may follow, so the archive can still take the document to B-LTA.
      Its FieldMDP names every field but the number and date (``/P 1`` forbids filling those
      anyway): with ``/Action /All``, pyHanko 0.38 counts the filled number fields as changed
      by a later DSS update and would refuse B-LT and B-LTA after the seal;
    * plain: nothing (a general-purpose signature).
    """
    locked = fields.FieldMDPSpec(
        action=fields.FieldMDPAction.INCLUDE,
        fields=sorted({n for n in field_names if n not in NUMBER_DATE_FIELDS}),
    )
    if profile is Profile.PERSONAL:
        return locked, None
    if profile in (Profile.AGENCY, Profile.ATTACHMENT, Profile.COPY):
        return locked, MDPPerm.NO_CHANGES
    return None


def _lock_existing_field(
    writer: IncrementalPdfFileWriter,
    name: str,
    lock: tuple[fields.FieldMDPSpec, MDPPerm | None],
) -> None:
    """Give a prepared (empty) signature field the profile's lock, unless it has one or the
    document is signed already: the lock is part of the field, and changing a field after a
    signature breaks that signature. A field prepared for a later signature should carry
    its lock from the start."""
    signed = any(
        value is not None for _, value, _ in fields.enumerate_sig_fields(writer, filled_status=True)
    )
    if signed:
        return
    for _, _, ref in fields.enumerate_sig_fields(writer, filled_status=False):
        field = ref.get_object()
        if str(field.get("/T")) != name.rsplit(".", 1)[-1] or "/Lock" in field:
            continue
        lock_dict = lock[0].as_sig_field_lock()
        if lock[1] is not None:
            lock_dict["/P"] = generic.NumberObject(lock[1].value)
        field["/Lock"] = writer.add_object(lock_dict)
        writer.update_container(field)
        return


def _field_names(writer: IncrementalPdfFileWriter) -> list[str]:
    """Fully qualified names of the document's terminal form fields."""
    names: list[str] = []
    form = writer.root.get("/AcroForm")
    if form is None:
        return names

    def walk(node: Any, prefix: str, depth: int) -> None:
        node = node.get_object()
        name = prefix
        if "/T" in node:
            name = f"{prefix}.{node['/T']}" if prefix else str(node["/T"])
        kids = [k for k in node.get("/Kids", ()) if "/T" in k.get_object()]
        if kids and depth < 32:
            for kid in kids:
                walk(kid, name, depth + 1)
        elif name:
            names.append(name)

    for ref in form.get_object().get("/Fields", ()):
        walk(ref, "", 0)
    return names

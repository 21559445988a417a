"""A development PKI: root CA, issuing CA, signers, TSA and OCSP responder, CRLs.

Development only (it warns with :class:`DevelopmentModeWarning`): the keys are generated
here and kept unencrypted. The demo keeps one under its data directory; the tests generate a
fresh one per session. Certificates point their CRL distribution points and OCSP/CA-issuer
URLs at ``base_url``, where :mod:`signing.dev.services` answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.keys import InMemoryKey
from signing.mode import development_part
from validation import DevelopmentModeWarning

KeySpec = Literal["rsa2048", "rsa3072", "ec256", "rsa1024"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# Dev PKI identities are Vietnamese on purpose: names with diacritics must survive every path.
DEV_ORG = "Sở Thông tin và Truyền thông tỉnh Thái Bình"
DEV_PERSON = "Nguyễn Thị Hương Giang"


class DevPkiWarning(DevelopmentModeWarning):
    """The development PKI is in use: its keys are kept unencrypted, its root is trusted
    by nobody."""


class InMemoryKeyWarning(DevelopmentModeWarning):
    """A development key held in this process signs (no token, no file a CA issued)."""


REVOCATION_VALIDITY = timedelta(days=30)
"""How long the development CRLs and OCSP responses stay current (their nextUpdate): long
enough that a document carrying them in its DSS is verifiable offline days later, in the
hard revocation mode, without a timestamp of its own."""


def generate_key(spec: KeySpec) -> PrivateKey:
    if spec == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    bits = {"rsa2048": 2048, "rsa3072": 3072, "rsa1024": 1024}[spec]
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerSpec:
    """A signer certificate to issue."""

    name: str
    """Short name: file names, token labels (``personal``, ``agency``, …)."""
    kind: Literal["individual", "organisation"]
    common_name: str
    key: KeySpec = "rsa2048"
    organisation: str = DEV_ORG
    valid_from: timedelta = timedelta(days=-30)
    """Offset of notBefore from the PKI's creation time."""
    valid_for: timedelta = timedelta(days=3 * 365)
    key_usage: Literal["signing", "encipherment"] = "signing"


DEFAULT_SIGNERS: tuple[SignerSpec, ...] = (
    SignerSpec(name="personal", kind="individual", common_name=DEV_PERSON),
    SignerSpec(name="agency", kind="organisation", common_name=DEV_ORG),
)


@dataclass(frozen=True, slots=True)
class Identity:
    """A key and its certificate."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(
    cn: str, *, org: str | None = None, unit: str | None = None, uid: str | None = None
) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass(slots=True, kw_only=True)
class DevPki:
    """The development CA hierarchy and its end entities."""

    base_url: str
    created: datetime
    root: Identity
    issuing: Identity
    tsa: Identity
    ocsp: Identity
    signers: dict[str, Identity] = field(default_factory=dict)
    revoked: dict[int, datetime] = field(default_factory=dict)
    """Serial numbers of revoked end-entity certificates, with revocation time."""

    @classmethod
    def generate(
        cls,
        base_url: str,
        *,
        signers: Iterable[SignerSpec] = DEFAULT_SIGNERS,
        now: datetime | None = None,
    ) -> DevPki:
        development_part(
            DevPkiWarning,
            "generating a development PKI: never use its certificates for real documents",
            "đang tạo hệ thống chứng thư số thử nghiệm: không dùng chứng thư của nó cho văn bản "
            "thật",
        )
        now = now or datetime.now(UTC).replace(microsecond=0)
        base_url = base_url.rstrip("/")
        root_key = generate_key("rsa3072")
        root_name = _name("Lienthong Dev Root CA", org="Lienthong Development PKI")
        root_cert = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=365))
            .not_valid_after(now + timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
            )
            .sign(root_key, hashes.SHA256())
        )
        root = Identity(root_key, root_cert)
        issuing_key = generate_key("rsa2048")
        issuing_cert = (
            _builder(
                root,
                _name("Lienthong Dev Issuing CA", org="Lienthong Development PKI"),
                issuing_key,
                now - timedelta(days=365),
                now + timedelta(days=10 * 365),
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(_crl_dp(f"{base_url}/crl/root.crl"), critical=False)
            .add_extension(_aia(base_url, "root", ocsp=False), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        pki = cls(
            base_url=base_url,
            created=now,
            root=root,
            issuing=Identity(issuing_key, issuing_cert),
            tsa=Identity(root_key, root_cert),  # replaced below
            ocsp=Identity(root_key, root_cert),  # replaced below
        )
        issuing = pki.issuing
        tsa_key = generate_key("rsa2048")
        pki.tsa = Identity(
            tsa_key,
            _end_entity(
                pki,
                _name("Lienthong Dev TSA", org="Lienthong Development PKI"),
                tsa_key,
                now - timedelta(days=30),
                now + timedelta(days=5 * 365),
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
            .sign(issuing.key, hashes.SHA256()),
        )
        ocsp_key = generate_key("rsa2048")
        pki.ocsp = Identity(
            ocsp_key,
            _builder(
                issuing,
                _name("Lienthong Dev OCSP Responder", org="Lienthong Development PKI"),
                ocsp_key,
                now - timedelta(days=30),
                now + timedelta(days=5 * 365),
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
            .add_extension(_usage(digital_signature=True), critical=True)
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .sign(issuing.key, hashes.SHA256()),
        )
        for spec in signers:
            pki.issue(spec)
        return pki

    def issue(self, spec: SignerSpec) -> Identity:
        """Issue (and remember) a signer certificate from the issuing CA."""
        key = generate_key(spec.key)
        if spec.kind == "organisation":
            subject = _name(spec.common_name, org=spec.organisation, uid="MST:1000000000")
        else:
            subject = _name(
                spec.common_name, org=spec.organisation, unit="Văn phòng", uid="CCCD:034180000001"
            )
        start = self.created + spec.valid_from
        usage = (
            _usage(digital_signature=True, content_commitment=True)
            if spec.key_usage == "signing"
            else _usage(key_encipherment=True)
        )
        cert = (
            _end_entity(self, subject, key, start, start + spec.valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(self.issuing.key, hashes.SHA256())
        )
        identity = Identity(key, cert)
        self.signers[spec.name] = identity
        return identity

    def revoke(self, name: str, at: datetime | None = None) -> None:
        cert = self.signers[name].cert
        self.revoked[cert.serial_number] = at or datetime.now(UTC).replace(microsecond=0)

    def crl(
        self, ca: Literal["root", "issuing"] = "issuing", *, now: datetime | None = None
    ) -> bytes:
        """A fresh DER CRL of ``ca``, current for :data:`REVOCATION_VALIDITY`."""
        now = now or datetime.now(UTC).replace(microsecond=0)
        issuer = self.root if ca == "root" else self.issuing
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + REVOCATION_VALIDITY)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                critical=False,
            )
        )
        if ca == "issuing":
            for serial, when in self.revoked.items():
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(serial)
                    .revocation_date(when)
                    .build()
                )
        return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def in_memory_key(self, name: str, *, pss: bool = False) -> InMemoryKey:
        """A signer as an in-memory key (development and benchmarks)."""
        development_part(
            InMemoryKeyWarning,
            f"signing with the development key {name!r} held in memory",
            f"ký bằng khóa thử nghiệm {name!r} giữ trong bộ nhớ",
        )
        ident = self.signers[name]
        return InMemoryKey(ident.key, ident.asn1, [self.issuing.asn1, self.root.asn1], pss=pss)

    def pkcs12(self, name: str, password: bytes) -> bytes:
        ident = self.signers[name]
        return pkcs12.serialize_key_and_certificates(
            name.encode(),
            ident.key,
            ident.cert,
            [self.issuing.cert, self.root.cert],
            serialization.BestAvailableEncryption(password),
        )

    def chain_pem(self) -> bytes:
        return self.issuing.cert_pem() + self.root.cert_pem()

    # -- persistence (the demo keeps its PKI between runs) --------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        entries: dict[str, Identity] = {
            "root": self.root,
            "issuing": self.issuing,
            "tsa": self.tsa,
            "ocsp": self.ocsp,
            **{f"signer-{n}": i for n, i in self.signers.items()},
        }
        for name, ident in entries.items():
            key_path = directory / f"{name}.key.pem"
            key_path.write_bytes(ident.key_pem())
            key_path.chmod(0o600)
            (directory / f"{name}.cert.pem").write_bytes(ident.cert_pem())
        meta = {
            "base_url": self.base_url,
            "created": self.created.isoformat(),
            "signers": sorted(self.signers),
            "revoked": {str(k): v.isoformat() for k, v in self.revoked.items()},
        }
        (directory / "pki.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> DevPki:
        development_part(
            DevPkiWarning,
            f"using the development PKI in {directory}: never for real documents",
            f"đang dùng hệ thống chứng thư số thử nghiệm trong {directory}: không dùng cho văn "
            "bản thật",
        )
        meta = json.loads((directory / "pki.json").read_text(encoding="utf-8"))

        def ident(name: str) -> Identity:
            key = serialization.load_pem_private_key(
                (directory / f"{name}.key.pem").read_bytes(), password=None
            )
            assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)  # noqa: S101
            cert = x509.load_pem_x509_certificate((directory / f"{name}.cert.pem").read_bytes())
            return Identity(key, cert)

        return cls(
            base_url=meta["base_url"],
            created=datetime.fromisoformat(meta["created"]),
            root=ident("root"),
            issuing=ident("issuing"),
            tsa=ident("tsa"),
            ocsp=ident("ocsp"),
            signers={n: ident(f"signer-{n}") for n in meta["signers"]},
            revoked={int(k): datetime.fromisoformat(v) for k, v in meta["revoked"].items()},
        )


def _ca_usage() -> x509.KeyUsage:
    return _usage(key_cert_sign=True, crl_sign=True, digital_signature=True)


def _usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    )
    values: Mapping[str, bool] = {n: flags.get(n, False) for n in names}
    return x509.KeyUsage(**values, encipher_only=False, decipher_only=False)


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _aia(base_url: str, issuer: str, *, ocsp: bool) -> x509.AuthorityInformationAccess:
    descriptions = [
        x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{base_url}/certs/{issuer}.cer"),
        )
    ]
    if ocsp:
        descriptions.append(
            x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{base_url}/ocsp"),
            )
        )
    return x509.AuthorityInformationAccess(descriptions)


def _builder(
    issuer: Identity, subject: x509.Name, key: PrivateKey, start: datetime, end: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )


def _end_entity(
    pki: DevPki, subject: x509.Name, key: PrivateKey, start: datetime, end: datetime
) -> x509.CertificateBuilder:
    return (
        _builder(pki.issuing, subject, key, start, end)
        .add_extension(_crl_dp(f"{pki.base_url}/crl/issuing.crl"), critical=False)
        .add_extension(_aia(pki.base_url, "issuing", ocsp=True), critical=False)
    )

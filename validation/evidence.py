"""Exporting the evidence behind a verdict, for the archive (TT 15/2025 §2.4: keep the
signer's certificate, the CRL in force at signing time and the revocation result).

Layout, one folder per report::

    <dir>/report.json              the report (schema lienthong-validation/1)
    <dir>/certificates/NN.cer      DER certificates
    <dir>/crls/NN.crl              DER CRLs
    <dir>/ocsp/NN.ocsp             DER OCSP responses
    <dir>/timestamps/NN.tst        DER RFC 3161 tokens (CMS ContentInfo)
    <dir>/SHA256SUMS               sha256 of every file above, sha256sum format
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from validation.errors import OutputNotWritable, os_reason
from validation.files import atomic_write
from validation.report import DocumentReport, reports_json


def write_evidence(report: DocumentReport, directory: Path) -> list[Path]:
    """Write the report and its evidence under ``directory`` (created); returns the files."""
    groups = {
        "certificates": (report.evidence.certificates, "cer"),
        "crls": (report.evidence.crls, "crl"),
        "ocsp": (report.evidence.ocsp_responses, "ocsp"),
        "timestamps": (report.evidence.timestamp_tokens, "tst"),
    }
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        report_path = directory / "report.json"
        # each file whole or not at all, like every other output (temp file, fsync, rename)
        atomic_write(
            report_path,
            json.dumps(reports_json([report]), ensure_ascii=False, indent=2).encode("utf-8"),
        )
        written.append(report_path)
        for folder, (items, suffix) in groups.items():
            if not items:
                continue
            (directory / folder).mkdir(exist_ok=True)
            for n, der in enumerate(items, start=1):
                path = directory / folder / f"{n:02d}.{suffix}"
                atomic_write(path, der)
                written.append(path)
        sums = "".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(directory)}\n"
            for p in written
        )
        atomic_write(directory / "SHA256SUMS", sums.encode("utf-8"))
    except OSError as exc:
        en, vi = os_reason(exc)
        raise OutputNotWritable(
            f"cannot write the evidence to {directory}: {en}",
            f"không ghi được bằng chứng vào {directory}: {vi}",
        ) from exc
    return written

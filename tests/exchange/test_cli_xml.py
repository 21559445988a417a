"""``lienthong sign xml`` through a token, checked by xmlsec1."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from signing.dev.pki import DevPki
from tests.plugin import SoftHsmToken, run_cli


@pytest.mark.hsm
@pytest.mark.parametrize("kind", ["xmldsig", "xades-b-b"])
def test_sign_xml_file_verifies_with_xmlsec1(
    token: SoftHsmToken, pki_files: Path, tmp_path: Path, kind: str
) -> None:
    source = tmp_path / "in.xml"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CongVan xmlns="urn:example:cong-van"><TrichYeu>Về việc liên thông văn bản'
        "</TrichYeu></CongVan>\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.xml"
    result = run_cli(
        "sign",
        "xml",
        str(source),
        "-o",
        str(out),
        "--key",
        token.uri("agency"),
        "--pin-env",
        "PIN",
        "--format",
        kind,
        env={"PIN": token.pin},
    )
    assert result.code == 0, result.err
    args = [
        "xmlsec1",
        "--verify",
        "--trusted-pem",
        str(pki_files / "root.pem"),
        "--untrusted-pem",
        str(pki_files / "issuing.pem"),
        "--enabled-key-data",
        "x509",
        "--enabled-reference-uris",
        "empty,same-doc",
    ]
    if kind != "xmldsig":
        args += ["--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"]
    verify = subprocess.run([*args, str(out)], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stderr
    assert "OK" in verify.stderr


def test_sign_xml_refuses_entities(pki: DevPki, tmp_path: Path) -> None:
    p12 = tmp_path / "k.p12"
    p12.write_bytes(pki.pkcs12("agency", b"pw"))
    source = tmp_path / "bomb.xml"
    source.write_text('<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>')
    out = tmp_path / "out.xml"
    result = run_cli(
        "sign",
        "xml",
        str(source),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P",
        env={"P": "pw"},
    )
    assert result.code == 65, result.err
    assert not out.exists()

"""``lienthong document`` as an operator runs it (real processes), on SQLite and PostgreSQL:
a draft, the personal signature (two-phase with a key the node never sees, and server-side
with SoftHSM2), issuing and the package, in Vietnamese by default and English with
``--lang en``; every refusal one line with its exit code, and nothing changed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.edxml import Edoc, parse_package
from exchange.settings import Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, Seed
from tests.exchange.service.test_documents import blank_pdf
from tests.exchange.service.test_signing import sample_metadata, settings, tsa_urls
from tests.exchange.service.test_two_phase import chain_pem, external_signature
from tests.plugin import PROJECT_ROOT, SoftHsmToken

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["settings", "tsa_urls"]  # the server-side keys and the TSA of test_signing


def _toml(value: object) -> str:
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


@pytest.fixture
def node(settings: Settings, seeded: Seed, token: SoftHsmToken, tmp_path: Path) -> dict[str, str]:
    """The environment of a node whose database holds the test agencies, with a TOML file
    configuring the signer's and the agency's keys (SoftHSM2)."""
    config = settings.agencies[AGENCY_A]
    assert config.seal is not None
    signer = config.signers["a-signer"]
    lines = [
        f"tsa_urls = [{', '.join(_toml(u) for u in settings.tsa_urls)}]",
        f'[agencies."{AGENCY_A}".signers.a-signer]',
        f"key = {_toml(signer.key)}",
        'pin_env = "SIGNER_PIN"',
        f"signature_image = {_toml(signer.signature_image)}",
        f'[agencies."{AGENCY_A}".seal]',
        f"key = {_toml(config.seal.key)}",
        'pin_env = "SEAL_PIN"',
        f"chain = {_toml(config.seal.chain)}",
        f"seal_image = {_toml(config.seal.seal_image)}",
    ]
    toml = tmp_path / "lienthong.toml"
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(
        LIENTHONG_CONFIG=str(toml),
        LIENTHONG_DATA_DIR=str(settings.data_dir),
        LIENTHONG_DATABASE_URL=str(settings.database_url),
        LIENTHONG_LANG="vi",
        SIGNER_PIN=token.pin,
        SEAL_PIN=token.pin,
    )
    return env


def lienthong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        timeout=300,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal: one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_issue_a_document_from_the_command_line(
    node: dict[str, str], tmp_path: Path, sample_pdf: bytes, pki: DevPki
) -> None:
    main = tmp_path / "cong-van.pdf"
    main.write_bytes(sample_pdf)
    appendix = tmp_path / "phu-luc.pdf"
    appendix.write_bytes(blank_pdf())
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(sample_metadata(), ensure_ascii=False), encoding="utf-8")
    agency = ("--agency", AGENCY_A)

    drafted = lienthong(
        node, "document", "draft", str(main), "--metadata", str(meta),
        "--attachment", str(appendix), "--user", "a-clerk", *agency,
    )  # fmt: skip
    assert drafted.returncode == 0, drafted.stderr
    first, rest = drafted.stdout.removeprefix("văn bản ").split(" | ", 1)
    assert rest.startswith("dự thảo | -/SNV-VP | V/v triển khai")
    assert len(first) == 20 and first.isalnum()  # a public identifier, not a row number

    # two-phase: the node hands out what to sign, the key (held here) signs it
    certificate = tmp_path / "chain.pem"
    certificate.write_bytes(chain_pem(pki))
    prepared = lienthong(
        node, "document", "sign-prepare", first, "--user", "a-signer",
        "--certificate", str(certificate), *agency,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    request = json.loads(prepared.stdout)
    assert len(base64.b64decode(request["digest"])) == 32
    wrong = tmp_path / "wrong.sig"
    wrong.write_text(external_signature(pki.signers["agency"], request))
    refused = lienthong(
        node, "--lang", "en", "document", "sign-finish", first, "--user", "a-signer",
        "--state-id", request["state_id"], "--signature", str(wrong), *agency,
    )  # fmt: skip
    assert refused.returncode == 64
    assert "does not match" in one_line(refused)
    value = tmp_path / "value.sig"
    value.write_bytes(base64.b64decode(external_signature(pki.signers["personal"], request)))
    finish_args = (
        "document", "sign-finish", first, "--user", "a-signer",
        "--state-id", request["state_id"], "--signature", str(value), *agency,
    )  # fmt: skip
    signed = lienthong(node, *finish_args)
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith(f"văn bản {first} | đã ký |")
    again = lienthong(node, *finish_args)
    assert again.returncode == 65 and "đã được sử dụng" in one_line(again)

    # the clerk issues it: number, date, seal, package
    issued = lienthong(
        node, "document", "issue", first, "--user", "a-clerk", "--lang", "en", *agency
    )
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith(f"document {first} | issued | 01/SNV-VP 20")
    package = tmp_path / "01-SNV-VP.edxml"
    written = lienthong(node, "document", "package", first, "-o", str(package), *agency)
    assert written.returncode == 0, written.stderr
    edoc = parse_package(package.read_bytes()).message
    assert isinstance(edoc, Edoc) and str(edoc.code) == "01/SNV-VP"
    assert [a.name for a in edoc.attachments] == ["01-SNV-VP.pdf", "phu-luc.pdf"]

    # a second draft, signed with the signer's key on the node (SoftHSM2)
    second = lienthong(node, "document", "draft", str(main), "--metadata", str(meta), *agency)
    assert second.returncode == 0, second.stderr
    other = second.stdout.removeprefix("văn bản ").split(" | ", 1)[0]
    not_a_signer = lienthong(node, "document", "sign", other, "--user", "a-clerk", *agency)
    assert not_a_signer.returncode == 77 and "signer" in one_line(not_a_signer)
    server = lienthong(node, "document", "sign", other, "--user", "a-signer", *agency)
    assert server.returncode == 0, server.stderr
    assert server.stdout.startswith(f"văn bản {other} | đã ký |")

    listed = lienthong(node, "document", "list", "--format", "json", *agency)
    assert listed.returncode == 0, listed.stderr
    assert [(d["id"], d["state"]) for d in json.loads(listed.stdout)] == [
        (first, "issued"),
        (other, "signed"),
    ]
    shown = lienthong(node, "document", "show", first, *agency)
    assert shown.returncode == 0 and "code_number: 1" in shown.stdout

    # refusals: one line each, with the exit code of their kind
    missing = lienthong(node, "document", "show", "aaaaaaaaaaaaaaaaaaaa", *agency)
    assert missing.returncode == 66 and "Không có văn bản này." in one_line(missing)
    no_file = lienthong(
        node, "document", "draft", str(tmp_path / "none.pdf"), "--metadata", str(meta), *agency
    )
    assert no_file.returncode == 66 and "none.pdf" in one_line(no_file)
    not_pdf = lienthong(node, "document", "draft", str(meta), "--metadata", str(meta), *agency)
    assert not_pdf.returncode == 65 and "PDF" in one_line(not_pdf)
    no_package = lienthong(
        node, "document", "package", other, "-o", str(tmp_path / "2.xml"), *agency
    )
    assert no_package.returncode == 66 and not (tmp_path / "2.xml").exists()
    nobody = lienthong(node, "document", "sign", other, "--user", "nobody", *agency)
    assert nobody.returncode == 66 and "nobody" in one_line(nobody)
    after = lienthong(node, "document", "list", "--format", "json", *agency)
    assert [d["state"] for d in json.loads(after.stdout)] == ["issued", "signed"]

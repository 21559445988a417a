"""The ``lienthong`` program as scripts call it: arguments, exit codes, one-line errors, and
never a half-written output."""

from __future__ import annotations

import base64
import io
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pypdf import PdfReader, PdfWriter

from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import PROJECT_ROOT, SoftHsmToken, pdfsig, pyhanko_verdicts, run_cli

PIN_ENV = {"TOKEN_PIN": "246810"}


@pytest.fixture
def doc(tmp_path: Path, sample_pdf: bytes) -> Path:
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(sample_pdf)
    return path


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("lienthong: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.hsm
async def test_sign_pdf_with_pkcs11_uri(
    token: SoftHsmToken, pki: DevPki, doc: Path, tmp_path: Path, nssdb: Path
) -> None:
    out = tmp_path / "signed.pdf"
    result = run_cli(
        "sign",
        "pdf",
        str(doc),
        "-o",
        str(out),
        "--key",
        token.uri("agency"),
        "--pin-env",
        "TOKEN_PIN",
        env=PIN_ENV,
    )
    assert result.code == 0, result.err
    assert "signed by Sở Thông tin và Truyền thông tỉnh Thái Bình" in result.out
    [verdict] = await pyhanko_verdicts(out.read_bytes(), pki)
    assert verdict.valid and verdict.trusted
    [opinion] = pdfsig(out, nssdb)
    assert opinion.valid and opinion.trusted


@pytest.mark.hsm
def test_pin_from_file_and_decree30_profiles(
    token: SoftHsmToken,
    doc: Path,
    tmp_path: Path,
    signature_png: bytes,
    seal_png: bytes,
    dev_services: DevServices,
) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("246810\n")
    (tmp_path / "sig.png").write_bytes(signature_png)
    (tmp_path / "seal.png").write_bytes(seal_png)
    fields = tmp_path / "fields.pdf"
    assert run_cli("number", "add-fields", str(doc), "-o", str(fields)).code == 0
    personal = tmp_path / "personal.pdf"
    r = run_cli(
        "sign",
        "pdf",
        str(fields),
        "-o",
        str(personal),
        "--key",
        token.uri("personal"),
        "--pin-file",
        str(pin_file),
        "--profile",
        "personal",
        "--image",
        str(tmp_path / "sig.png"),
        "--anchor",
        "Nguyễn Thị Hương Giang",
        "--anchor-above",
        "PHÓ GIÁM ĐỐC",
    )
    assert r.code == 0, r.err
    numbered = tmp_path / "numbered.pdf"
    r = run_cli(
        "number",
        "fill",
        str(personal),
        "-o",
        str(numbered),
        "--number",
        "42",
        "--date",
        "2026-02-05",
    )
    assert r.code == 0, r.err
    assert "so=42" in r.out and "ngay=05" in r.out and "thang=02" in r.out
    final = tmp_path / "final.pdf"
    r = run_cli(
        "sign",
        "pdf",
        str(numbered),
        "-o",
        str(final),
        "--key",
        token.uri("agency"),
        "--pin-file",
        str(pin_file),
        "--profile",
        "agency",
        "--image",
        str(tmp_path / "seal.png"),
        "--seal-mm",
        "38",
        "--level",
        "B-T",
        "--tsa",
        "http://127.0.0.1:1/dead",
        "--tsa",
        dev_services.tsa_url,
    )
    assert r.code == 0, r.err
    assert "agency, PAdES B-T" in r.out


@pytest.mark.hsm
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--key", "{uri:personal}", "--pin-env", "BAD_PIN"], 77, "wrong PIN"),
        (["--key", "{uri:personal}"], 77, "needs a PIN"),
        (
            ["--key", "pkcs11:token=Nope;object=personal", "--pin-env", "TOKEN_PIN"],
            78,
            "no token 'Nope'",
        ),
        (["--key", "{uri:missing}", "--pin-env", "TOKEN_PIN"], 78, "no private key 'missing'"),
        (["--key", "{uri:expired}", "--pin-env", "TOKEN_PIN"], 79, "expired"),
        (
            [
                "--key",
                "{uri:personal}",
                "--pin-env",
                "TOKEN_PIN",
                "--level",
                "B-T",
                "--tsa",
                "http://127.0.0.1:1/tsa",
            ],
            69,
            "no timestamp authority answered",
        ),
        (
            ["--key", "{uri:personal}", "--pin-env", "TOKEN_PIN", "--level", "B-T"],
            64,
            "needs a timestamp authority",
        ),
        (["--key", "pkcs11:token=X;object=Y?pin-value=1234"], 64, "PIN inside the PKCS#11 URI"),
        (
            ["--key", "{uri:personal}", "--pin-env", "TOKEN_PIN", "--profile", "personal"],
            64,
            "needs an image",
        ),
    ],
    ids=[
        "wrong-pin",
        "no-pin",
        "no-token",
        "no-key",
        "expired",
        "dead-tsa",
        "no-tsa",
        "pin-in-uri",
        "no-image",
    ],
)
def test_errors_are_one_line_with_their_exit_code(
    token: SoftHsmToken, doc: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    args = [a.replace("{uri:", "").replace("}", "") for a in args]
    args = [
        token.uri(a)
        if a in ("personal", "missing", "expired") and i > 0 and args[i - 1] == "--key"
        else a
        for i, a in enumerate(args)
    ]
    out = tmp_path / "out.pdf"
    result = run_cli(
        "sign", "pdf", str(doc), "-o", str(out), *args, env={**PIN_ENV, "BAD_PIN": "000000"}
    )
    assert result.code == code, result.err
    assert message in _one_line_error(result.err)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [doc], "no half-written output"


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        ("missing", 66, "does not exist"),
        ("malformed", 65, "not a readable PDF"),
        ("encrypted", 65, "encrypted"),
        ("no-output-dir", 73, "cannot write"),
    ],
)
def test_bad_documents_and_outputs(
    pki: DevPki, doc: Path, tmp_path: Path, corpus: Path, setup: str, code: int, message: str
) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"secret"))
    source, out = doc, tmp_path / "out.pdf"
    if setup == "missing":
        source = tmp_path / "nope.pdf"
    elif setup == "malformed":
        source = corpus / "pdf-malformed" / "pyhanko" / "minimal-startxref-hopeless.pdf"
    elif setup == "encrypted":
        writer = PdfWriter(clone_from=PdfReader(doc))
        writer.encrypt("mật-khẩu")
        buf = io.BytesIO()
        writer.write(buf)
        source = tmp_path / "encrypted.pdf"
        source.write_bytes(buf.getvalue())
    else:
        out = tmp_path / "no" / "such" / "dir" / "out.pdf"
    result = run_cli(
        "sign",
        "pdf",
        str(source),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P12_PASSWORD",
        env={"P12_PASSWORD": "secret"},
    )
    assert result.code == code, result.err
    assert message in _one_line_error(result.err)
    assert not out.exists()
    assert not [p for p in tmp_path.rglob("*.part")]


def test_pkcs12_key_warns_and_signs(pki: DevPki, doc: Path, tmp_path: Path) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"secret"))
    out = tmp_path / "out.pdf"
    result = run_cli(
        "sign",
        "pdf",
        str(doc),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P12_PASSWORD",
        env={"P12_PASSWORD": "secret"},
    )
    assert result.code == 0, result.err
    assert "a key on a USB token or HSM is safer" in result.err
    wrong = run_cli(
        "sign",
        "pdf",
        str(doc),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P12_PASSWORD",
        env={"P12_PASSWORD": "nope"},
    )
    assert wrong.code == 77 and "wrong password" in wrong.err


@pytest.mark.parametrize(
    ("signer", "message"),
    [("not-yet-valid", "not valid before"), ("encipher-only", "does not allow signing")],
)
def test_unusable_certificates(
    pki: DevPki, doc: Path, tmp_path: Path, signer: str, message: str
) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12(signer, b"pw"))
    out = tmp_path / "out.pdf"
    result = run_cli(
        "sign",
        "pdf",
        str(doc),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P",
        env={"P": "pw"},
    )
    assert result.code == 79, result.err
    assert message in _one_line_error(result.err)
    assert not out.exists()


def test_usage_errors_exit_64(doc: Path, tmp_path: Path) -> None:
    result = run_cli("sign", "pdf", str(doc), "-o", str(tmp_path / "o.pdf"))
    assert result.code == 64
    assert "--key" in result.err
    assert (
        run_cli("sign", "pdf", str(doc), "-o", str(tmp_path / "o.pdf"), "--key", "x.pem").code == 64
    )


@pytest.mark.hsm
async def test_batch_one_login_progress_and_partial_failure(
    token: SoftHsmToken, pki: DevPki, sample_pdf: bytes, tmp_path: Path, corpus: Path
) -> None:
    inputs = []
    for n in range(4):
        path = tmp_path / f"doc-{n}.pdf"
        path.write_bytes(sample_pdf)
        inputs.append(str(path))
    inputs.append(str(corpus / "pdf-malformed" / "pyhanko" / "minimal-startxref-hopeless.pdf"))
    out_dir = tmp_path / "signed"
    out_dir.mkdir()
    result = run_cli(
        "sign",
        "pdf",
        *inputs,
        "-o",
        str(out_dir),
        "--key",
        token.uri("personal"),
        "--pin-env",
        "TOKEN_PIN",
        env=PIN_ENV,
    )
    assert result.code == 1, result.err
    assert "signed 4 of 5 documents" in result.out
    assert "minimal-startxref-hopeless.pdf: not a readable PDF" in result.err
    assert sorted(p.name for p in out_dir.iterdir()) == [f"doc-{n}.pdf" for n in range(4)]
    for path in out_dir.iterdir():
        [verdict] = await pyhanko_verdicts(path.read_bytes(), pki)
        assert verdict.valid


@pytest.mark.hsm
def test_token_list(token: SoftHsmToken) -> None:
    result = run_cli(
        "token", "list", "--module", token.module, "--pin-env", "TOKEN_PIN", env=PIN_ENV
    )
    assert result.code == 0, result.err
    assert f"token '{token.label}'" in result.out
    for key in ("personal", "agency", "personal-pss", "personal-ec"):
        assert f"private key  '{key}'" in result.out
    assert "Nguyễn Thị Hương Giang" in result.out
    assert "pkcs11:token=Lienthong%20Test;object=personal" in result.out
    assert "246810" not in result.out + result.err


async def test_two_phase_in_separate_processes(
    pki: DevPki,
    doc: Path,
    tmp_path: Path,
    signature_png: bytes,
    nssdb: Path,
    dev_services: DevServices,
) -> None:
    """Phase one and two are separate program runs; the key signs in between, elsewhere."""
    cert = tmp_path / "signer.pem"
    cert.write_bytes(pki.signers["personal-ec"].cert_pem())
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.chain_pem())
    (tmp_path / "sig.png").write_bytes(signature_png)
    state = tmp_path / "state.json"
    r = run_cli(
        "sign",
        "prepare",
        str(doc),
        "--cert",
        str(cert),
        "--chain",
        str(chain),
        "--state",
        str(state),
        "--profile",
        "personal",
        "--image",
        str(tmp_path / "sig.png"),
        "--box",
        "1:120,230,40,16",
        "--level",
        "B-T",
        "--tsa",
        dev_services.tsa_url,
    )
    assert r.code == 0, r.err
    request = json.loads(r.out)
    assert request["signature_algorithm"] == "sha256_ecdsa"
    saved = json.loads(state.read_text())
    assert saved["format"] == "lienthong-two-phase/1"
    # the external key: signs the bytes it is given (hash-and-sign)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = pki.signers["personal-ec"].key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    value = key.sign(base64.b64decode(request["to_be_signed"]), ec.ECDSA(hashes.SHA256()))
    # a wrong value is refused, and nothing is written
    bad = tmp_path / "bad.sig"
    bad.write_bytes(base64.b64encode(value[:-3] + b"\x00\x00\x00"))
    out = tmp_path / "signed.pdf"
    r = run_cli("sign", "finish", str(state), "--signature", str(bad), "-o", str(out))
    assert r.code == 65 and "does not match" in _one_line_error(r.err)
    assert not out.exists()
    sig_file = tmp_path / "value.sig"
    sig_file.write_bytes(base64.b64encode(value))
    r = run_cli("sign", "finish", str(state), "--signature", str(sig_file), "-o", str(out))
    assert r.code == 0, r.err
    [verdict] = await pyhanko_verdicts(out.read_bytes(), pki)
    assert verdict.valid and verdict.trusted and verdict.timestamped
    [opinion] = pdfsig(out, nssdb)
    assert opinion.valid and opinion.trusted
    assert pki.signers["personal-ec"].cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB tmpfs: smaller than any signed document."""
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr!r}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_full_disk_leaves_nothing_behind(
    pki: DevPki, doc: Path, tmp_path: Path, full_disk: Path
) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"pw"))
    out = full_disk / "signed.pdf"
    result = run_cli(
        "sign",
        "pdf",
        str(doc),
        "-o",
        str(out),
        "--key",
        str(p12),
        "--pin-env",
        "P",
        env={"P": "pw"},
    )
    assert result.code == 73, result.err
    assert "disk is full" in _one_line_error(result.err)
    assert list(full_disk.iterdir()) == []


@pytest.mark.hsm
def test_pin_prompt_on_a_terminal(token: SoftHsmToken, doc: Path, tmp_path: Path) -> None:
    """On a terminal the PIN is asked for, hidden, once; it never shows in the output."""
    out = tmp_path / "signed.pdf"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real program on a terminal
        os.chdir(PROJECT_ROOT)
        os.execve(
            sys.executable,
            [
                sys.executable,
                "-m",
                "exchange.cli",
                "--lang",
                "en",
                "sign",
                "pdf",
                str(doc),
                "-o",
                str(out),
                "--key",
                token.uri("personal"),
            ],
            dict(os.environ),
        )
    seen = b""
    deadline = time.monotonic() + 60
    while b"PIN" not in seen and time.monotonic() < deadline:
        seen += os.read(fd, 1024)
    os.write(fd, token.pin.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert out.exists()
    assert token.pin.encode() not in seen

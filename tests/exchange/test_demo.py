"""``lienthong demo``: the README's first command, end to end, and reused the second time."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from signing import VIETNAM
from tests.plugin import PROJECT_ROOT, pdfsig, run_cli


@pytest.mark.slow
@pytest.mark.hsm
def test_demo_signs_a_cong_van_and_reuses_its_pki(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    first = run_cli("demo", "--data-dir", str(data))
    assert first.code == 0, first.err
    assert "creating a development PKI" in first.err
    assert "development" in first.err  # the dev TSA and PKI say what they are
    match = re.search(r"Signed document: (\S+\.pdf)", first.out)
    assert match, first.out
    output = Path(match.group(1))
    assert output.is_file()
    # one folder per run, its path printed, the newest also reachable as "latest"
    run_dir = output.parent
    assert f"This run's folder: {run_dir}" in first.out
    assert run_dir.parent == (data / "runs").resolve()
    assert output.name == "cong-van.pdf"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "1-draft.pdf",
        "2-personal.pdf",
        "3-numbered.pdf",
        "4-sealed.pdf",
        "cong-van.pdf",
    ]
    assert (data / "latest").resolve() == run_dir
    # B-LT: the validation data of both signatures is in the document's DSS
    assert "the file carries validation data (DSS)" in first.out
    assert "VALID (TOTAL-PASSED)" in first.out and "NOT VALID" not in first.out
    assert "Legal value (Decree 30/2020 Art. 5): YES" in first.out
    assert "form filling" in first.out  # number and date, filled after the personal signature
    assert "Lienthong Dev TSA" in first.out  # the agency signature's timestamp

    # a second opinion, trusting the demo's development root
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "dev-root",
            "-t",
            "CT,C,C",
            "-a",
            "-i",
            str(data / "pki" / "root.cert.pem"),
        ],
        check=True,
    )
    opinions = pdfsig(output, nss)
    assert [o.signer for o in opinions] == [
        "Nguyễn Thị Hương Giang",
        "Sở Thông tin và Truyền thông tỉnh Thái Bình",
    ]
    assert all(o.valid for o in opinions)
    text = subprocess.run(
        ["pdftotext", str(output), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text

    second = run_cli(
        "demo", "--data-dir", str(data), env={"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    )
    assert second.code == 0, second.err
    assert "creating" not in second.err
    second_output = Path(re.findall(r"Signed document: (\S+\.pdf)", second.out)[0])
    assert second_output.parent != run_dir and output.is_file()  # the first run is kept
    assert (data / "latest").resolve() == second_output.parent


def _try_next(out: str) -> list[str]:
    lines = out.split("Try next (the lines run as printed):\n", 1)[1].splitlines()
    return [line.strip() for line in lines if line.strip()]


@pytest.mark.slow
@pytest.mark.hsm
def test_the_demo_document_verifies_offline_a_day_later_and_its_commands_run_as_printed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo"
    result = run_cli("demo", "--data-dir", str(data))
    assert result.code == 0, result.err
    output = Path(re.findall(r"Signed document: (\S+\.pdf)", result.out)[0])
    root = data / "pki" / "root.cert.pem"

    # the strict check, a day later: offline, hard revocation mode, nothing but the document
    later = (datetime.now(VIETNAM) + timedelta(days=1)).isoformat(timespec="seconds")
    verdict = run_cli("verify", str(output), "--trust", str(root), "--offline", "--at", later)
    assert verdict.code == 0, verdict.out + verdict.err
    first_line = verdict.out.splitlines()[0]
    assert first_line.endswith("VALID (TOTAL-PASSED)"), verdict.out
    assert "Legal value (Decree 30/2020 Art. 5): YES" in verdict.out
    assert verdict.out.count("not revoked (embedded in the document)") == 2
    assert "TRY_LATER" not in verdict.out

    # the same document without its DSS revision (B-T only) is what the issue saw
    sealed = output.parent / "4-sealed.pdf"
    bare = run_cli("verify", str(sealed), "--trust", str(root), "--offline", "--at", later)
    assert bare.code == 2 and "TRY_LATER" in bare.out

    # the "try next" lines, pasted into a shell that has none of the demo's environment
    commands = _try_next(result.out)
    assert any(c.startswith("export LIENTHONG_DEMO_PIN=") for c in commands)
    # the program by its full path, or by its name when that name on PATH is this program
    # (then the caller's shell finds it: the lines run with the PATH the demo ran with)
    script = PROJECT_ROOT / ".venv" / "bin" / "lienthong"
    on_path = shutil.which("lienthong")
    named = on_path is not None and Path(on_path).samefile(script)
    program = "lienthong " if named else f"{script} "
    assert all(c.startswith(program) for c in commands[2:]), commands
    assert any(" verify " in c and c.endswith("--offline") for c in commands)
    shell = shutil.which("bash")
    assert shell is not None
    path = os.environ["PATH"] if named else "/usr/bin:/bin"
    env = {"PATH": path, "HOME": str(tmp_path), "LIENTHONG_LANG": "en"}
    ran = subprocess.run(
        [shell, "-e", "-c", "\n".join(commands)],
        cwd=tmp_path,  # any directory: the lines name everything by its full path
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
    assert (output.parent / "try-signed.pdf").is_file()
    assert "VALID (TOTAL-PASSED)" in ran.stdout  # the last line is the offline verify


@pytest.mark.slow
@pytest.mark.hsm
def test_two_demos_at_once_each_serve_their_own_pki(tmp_path: Path) -> None:
    env = {**os.environ, "LIENTHONG_LANG": "en"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "exchange.cli", "demo", "--data-dir", str(tmp_path / name)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "Legal value (Decree 30/2020 Art. 5): YES" in out
    ports = {
        urlsplit(json.loads((tmp_path / n / "pki" / "pki.json").read_text())["base_url"]).port
        for n in ("a", "b")
    }
    assert len(ports) == 2  # each PKI names its own responder


@pytest.mark.slow
@pytest.mark.hsm
def test_a_busy_responder_port_is_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    assert run_cli("demo", "--data-dir", str(data)).code == 0
    port = urlsplit(json.loads((data / "pki" / "pki.json").read_text())["base_url"]).port
    assert port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        again = run_cli("demo", "--data-dir", str(data))
    assert again.code == 69
    [line] = [x for x in again.err.splitlines() if x.startswith("lienthong: error")]
    assert f"127.0.0.1:{port}" in line and "Traceback" not in again.err

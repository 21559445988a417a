"""``lienthong demo``: the README's first command. Two real nodes on 127.0.0.1, a document from
Sở Tài chính to UBND tỉnh until status 03 comes back; the nodes stopped afterwards, also on
Ctrl+C; the PKI and tokens reused the second time."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.plugin import PROJECT_ROOT, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.hsm]

SENDER = "000.00.01.H53"
RECEIVER = "000.00.00.H53"


def _node_ports(err: str) -> list[int]:
    return [int(p) for p in re.findall(r"on http://127\.0\.0\.1:(\d+)", err)]


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _try_next(out: str) -> list[str]:
    lines = out.split("Try next (the lines run as printed):\n", 1)[1].splitlines()
    return [line.strip() for line in lines if line.strip()]


def test_the_demo_sends_a_document_between_two_nodes_and_stops_them(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    started = time.monotonic()
    first = run_cli("demo", "--data-dir", str(data))
    wall = time.monotonic() - started
    assert first.code == 0, first.out + first.err
    assert wall < 120, wall
    assert "creating a development PKI" in first.err
    assert "development" in first.err  # the dev TSA, PKI and tokens say what they are

    # the sender's timeline: 01 then 03, in Vietnam time
    timeline = first.out.split("Timeline at the sender (Sở Tài chính)", 1)[1]
    events = re.findall(r"^  (\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)  (\d\d)  (.*)$", timeline, re.M)
    assert [code for _, code, _ in events] == ["01", "03"], first.out
    assert "số đến 1/" in events[1][2]
    # the receiver's verification summary
    assert "Verification at the receiver (UBND tỉnh):" in first.out
    assert "arrival number 1/" in first.out and "(registered)" in first.out
    assert "signatures: valid (TOTAL-PASSED)" in first.out
    assert "legal check: passes (Decree 30/2020 Art. 5)" in first.out

    # both nodes were stopped: nothing listens where they did
    ports = _node_ports(first.err)
    assert len(set(ports)) == 2, first.err
    assert not any(_listening(p) for p in ports)
    assert "stopping both nodes" in first.err

    # each node's data is left in this run's folder, the newest also as "latest"
    match = re.search(r"This run's folder: (\S+)", first.out)
    assert match, first.out
    run_dir = Path(match.group(1))
    assert run_dir.parent == (data / "runs").resolve() and (data / "latest").resolve() == run_dir
    for slug in ("so-tai-chinh", "ubnd-tinh"):
        home = run_dir / slug
        assert (home / "lienthong.toml").is_file() and (home / "serve.log").is_file()
        assert (home / "data" / "lienthong.db").is_file()
        assert (home / "data" / "trust" / "root.pem").is_file()
    assert (run_dir / "cong-van.pdf").read_bytes().startswith(b"%PDF")
    # two agencies, two agency certificates
    configs = [(run_dir / s / "lienthong.toml").read_text() for s in ("so-tai-chinh", "ubnd-tinh")]
    seals = [re.search(r"\.seal\]\nkey = \"([^\"]+)\"", c) for c in configs]
    assert all(seals) and len({m.group(1) for m in seals if m}) == 2

    # the "try next" lines, pasted into a shell that has none of the demo's environment: the
    # sender's own database says 03, the receiver's lists the registered document
    commands = _try_next(first.out)
    script = PROJECT_ROOT / ".venv" / "bin" / "lienthong"
    on_path = shutil.which("lienthong")
    named = on_path is not None and Path(on_path).samefile(script)
    program = "lienthong " if named else f"{script} "
    assert all(c.startswith(program) for c in commands), commands
    shell = shutil.which("bash")
    assert shell is not None
    env = {
        "PATH": os.environ["PATH"] if named else "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LIENTHONG_LANG": "en",
    }
    ran = subprocess.run(
        [shell, "-e", "-c", "\n".join(commands)],
        cwd=tmp_path,  # any directory: the lines name everything by its full path
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
    assert f"{RECEIVER} | delivered | status 03" in ran.stdout
    assert f"{RECEIVER} <- {SENDER} Sở Tài chính" in ran.stdout and "registered" in ran.stdout

    # the second time: the PKI and tokens are reused, the output is Vietnamese by default
    second = run_cli("demo", "--data-dir", str(data), env={"LIENTHONG_LANG": "vi"})
    assert second.code == 0, second.out + second.err
    assert "đang tạo hệ thống chứng thư" not in second.err
    assert "đang tạo token" not in second.err
    assert "Dòng thời gian tại nơi gửi (Sở Tài chính)" in second.out
    assert "Kết quả kiểm tra tại nơi nhận (UBND tỉnh)" in second.out
    assert "chữ ký số: hợp lệ (TOTAL-PASSED)" in second.out
    assert "Hai nút đã dừng." in second.out
    second_run = Path(re.findall(r"Thư mục của lần chạy: (\S+)", second.out)[0])
    assert second_run != run_dir and (run_dir / "so-tai-chinh" / "data" / "lienthong.db").exists()
    assert (data / "latest").resolve() == second_run
    assert not any(_listening(p) for p in _node_ports(second.err))


def test_ctrl_c_stops_the_nodes(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", "demo", "--data-dir", str(tmp_path / "demo")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LIENTHONG_LANG": "en"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job ignores SIGINT, and so would its children: not this one
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        for line in proc.stderr:  # until both nodes answered and the flow began
            lines.append(line)
            if "drafts" in line:
                break
        ports = _node_ports("".join(lines))
        assert len(ports) == 2, lines
        assert all(_listening(p) for p in ports)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, "".join(lines) + rest
    assert "stopping both nodes" in rest
    assert not any(_listening(p) for p in ports)


def test_two_demos_at_once_each_run_their_own_nodes_and_pki(tmp_path: Path) -> None:
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
    ports: list[int] = []
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
        assert "legal check: passes (Decree 30/2020 Art. 5)" in out
        ports += _node_ports(err)
    assert len(set(ports)) == 4 and not any(_listening(p) for p in ports)
    responders = {
        urlsplit(json.loads((tmp_path / n / "pki" / "pki.json").read_text())["base_url"]).port
        for n in ("a", "b")
    }
    assert len(responders) == 2  # each PKI names its own responder


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
    assert "starting the node" not in again.err  # no node was started

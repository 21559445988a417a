"""The node's commands, as an operator runs them: db upgrade, directory, users, API tokens,
audit verify, and a real ``lienthong serve`` on 127.0.0.1."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.db.migrate import head_revisions
from tests.exchange.service.conftest import _pg_execute, _with_database, free_port
from tests.plugin import PROJECT_ROOT

pytestmark = pytest.mark.db
ORGAN = "000.00.01.H53"
PW = "mật khẩu quản trị 2026"
HEAD = head_revisions()[0]


@pytest.fixture
def node_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_DATA_DIR=str(tmp_path / "node"), LIENTHONG_LANG="vi", ADMIN_PW=PW)
    return env


def lienthong(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def one_error_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_first_agency_users_tokens_directory_and_audit(
    node_env: dict[str, str], tmp_path: Path
) -> None:
    # an empty node refuses to work until the schema is there
    line = one_error_line(lienthong(node_env, "user", "list", "--agency", ORGAN, ok=False), 78)
    assert line.startswith("lienthong: lỗi: ") and "db upgrade" in line
    upgraded = lienthong(node_env, "db", "upgrade")
    assert HEAD in upgraded.stdout
    assert (tmp_path / "node" / "lienthong.db").is_file()
    assert HEAD in lienthong(node_env, "db", "current").stdout

    lienthong(
        node_env,
        "directory",
        "add",
        ORGAN,
        "--name",
        "Sở Nội vụ tỉnh Thái Bình",
        "--hosted",
        "--email",
        "snv@thaibinh.gov.vn",
    )
    lienthong(
        node_env,
        "directory",
        "add",
        "000.00.00.G22",
        "--name",
        "Văn phòng Chính phủ",
        "--node-url",
        "https://lienthong.vpcp.example",
    )
    lienthong(
        node_env,
        "user",
        "add",
        "--agency",
        ORGAN,
        "quantri",
        "--role",
        "admin",
        "--role",
        "clerk",
        "--full-name",
        "Nguyễn Văn An",
        "--password-env",
        "ADMIN_PW",
    )
    listed = json.loads(
        lienthong(node_env, "user", "list", "--agency", ORGAN, "--format", "json").stdout
    )
    assert [(u["username"], u["roles"], u["disabled"]) for u in listed] == [
        ("quantri", ["admin", "clerk"], False)
    ]
    issued = lienthong(
        node_env, "token", "issue", "--agency", ORGAN, "--name", "may-quet", "--role", "clerk"
    )
    secret = issued.stdout.strip()
    assert secret.startswith("lt_") and secret not in issued.stderr
    public_id = secret.split("_")[1]

    # errors are one line in the chosen language, with the README's exit codes
    line = one_error_line(
        lienthong(
            node_env,
            "--lang",
            "en",
            "user",
            "add",
            "--agency",
            "NO.SUCH",
            "x1x",
            "--role",
            "clerk",
            "--password-env",
            "ADMIN_PW",
            ok=False,
        ),
        66,
    )
    assert line == "lienthong: error: This node hosts no agency NO.SUCH."
    line = one_error_line(
        lienthong(
            node_env,
            "user",
            "add",
            "--agency",
            ORGAN,
            "quantri",
            "--role",
            "clerk",
            "--password-env",
            "ADMIN_PW",
            ok=False,
        ),
        65,
    )
    assert "đã được dùng" in line
    weak = {**node_env, "ADMIN_PW": "ngắn"}
    line = one_error_line(
        lienthong(
            weak,
            "user",
            "add",
            "--agency",
            ORGAN,
            "ai-do",
            "--role",
            "clerk",
            "--password-env",
            "ADMIN_PW",
            ok=False,
        ),
        64,
    )
    assert "ít nhất 10 ký tự" in line

    # directory export and import, JSON and CSV, round trip
    out_json, out_csv = tmp_path / "danhba.json", tmp_path / "danhba.csv"
    lienthong(node_env, "directory", "export", str(out_json))
    lienthong(node_env, "directory", "export", str(out_csv))
    exported = json.loads(out_json.read_text())["agencies"]
    assert [a["organ_id"] for a in exported] == ["000.00.00.G22", ORGAN]
    lienthong(node_env, "directory", "import", str(out_csv))
    assert (
        lienthong(node_env, "directory", "export", "--format", "json").stdout
        == out_json.read_text()
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("organ_id,name,hosted\nabc,x,true\n")
    line = one_error_line(lienthong(node_env, "directory", "import", str(bad), ok=False), 64)
    assert "line 2" in line or "dòng" in line or "abc" in line

    lienthong(node_env, "token", "revoke", "--agency", ORGAN, public_id)
    disabled = lienthong(node_env, "user", "disable", "--agency", ORGAN, "quantri")
    assert "đã khóa người dùng quantri" in disabled.stdout

    verified = lienthong(node_env, "audit", "verify")
    assert "nhật ký nguyên vẹn" in verified.stdout
    # someone edits the database behind the program's back
    with sqlite3.connect(tmp_path / "node" / "lienthong.db") as db:
        db.execute("UPDATE audit_log SET actor = 'cli:someone' WHERE seq = 3")
    broken = lienthong(node_env, "audit", "verify", ok=False)
    assert broken.returncode == 65
    assert "mục 3" in broken.stdout
    assert "Traceback" not in broken.stderr
    with sqlite3.connect(tmp_path / "node" / "lienthong.db") as db:
        db.execute("DELETE FROM audit_log WHERE seq = 5")
    broken = lienthong(node_env, "--lang", "en", "audit", "verify", ok=False)
    assert "entries before 6 are missing" in broken.stdout


def test_bad_settings_are_one_line(node_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "lienthong.toml"
    config.write_text("prot = 1\n")
    line = one_error_line(
        lienthong(node_env, "db", "upgrade", "--config", str(config), ok=False), 78
    )
    assert "prot" in line


def test_db_upgrade_on_postgresql_by_url(node_env: dict[str, str], pg_admin_url: str) -> None:
    import asyncio

    name = f"lt_cli_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(pg_admin_url, f"CREATE DATABASE {name}"))
    try:
        env = {**node_env, "LIENTHONG_DATABASE_URL": _with_database(pg_admin_url, name)}
        assert HEAD in lienthong(env, "db", "upgrade").stdout
        assert HEAD in lienthong(env, "db", "current").stdout
    finally:
        asyncio.run(_pg_execute(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def serving(node_env: dict[str, str]) -> Iterator[str]:
    lienthong(node_env, "db", "upgrade")
    lienthong(node_env, "directory", "add", ORGAN, "--name", "Sở Nội vụ", "--hosted")
    lienthong(
        node_env,
        "user",
        "add",
        "--agency",
        ORGAN,
        "vanthu",
        "--role",
        "clerk",
        "--password-env",
        "ADMIN_PW",
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=node_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else ""
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # closes the pipes too


def test_a_real_server_on_loopback(serving: str) -> None:
    with httpx.Client(base_url=serving, timeout=10) as client:
        spec = client.get("/api/v1/openapi.json").json()
        assert "/api/v1/login" in spec["paths"]
        login = client.post("/api/v1/login", json={"username": "vanthu", "password": PW})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        me = client.get("/api/v1/me", headers=headers).json()
        assert me["organ_id"] == ORGAN and me["roles"] == ["clerk"]
        # the administrator has not created a register yet
        missing = client.post(
            "/api/v1/registers/DI/numbers", headers=headers, json={"notation": "SNV"}
        )
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["detail"] == "Không có sổ này."


def test_serve_refuses_an_out_of_date_schema(node_env: dict[str, str]) -> None:
    line = one_error_line(lienthong(node_env, "serve", "--port", str(free_port()), ok=False), 78)
    assert "db upgrade" in line

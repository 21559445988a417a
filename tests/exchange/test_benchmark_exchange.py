"""The exchange benchmark runs end to end with one round of one document (SQLite, and
PostgreSQL through ``--database-url``): it prints both ratios, and the documents it issued
were received, verified and registered by the service and passed the library's validation."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys

import pytest

from tests.exchange.service.conftest import _pg_execute, _with_database
from tests.exchange.service.conftest import pg_admin_url as pg_admin_url  # the fixture
from tests.plugin import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.hsm]

RATIO = re.compile(
    r"^(?P<what>[12]) .*: service (?P<svc>[\d.]+)/s .* library (?P<lib>[\d.]+)/s .*"
    r"service time / library time: min (?P<min>[\d.]+) median (?P<median>[\d.]+) .*"
    r"target <= 1\.50: (?P<status>ok|MISSED)$",
    re.MULTILINE,
)


def run_benchmark(*extra: str) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.exchange",
            "--rounds",
            "1",
            "--iterations",
            "1",
            "--warmup",
            "0",
            "--attachments",
            "1",
            *extra,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def check_output(out: str) -> None:
    lines = {m["what"]: m for m in RATIO.finditer(out)}
    assert sorted(lines) == ["1", "2"], out
    for m in lines.values():
        assert float(m["svc"]) > 0 and float(m["lib"]) > 0
        # one round: its ratio is the min and the median, and it is the rates' quotient
        assert m["min"] == m["median"]
        assert float(m["median"]) == pytest.approx(float(m["lib"]) / float(m["svc"]), rel=0.02)
    # the issued package was registered by the receiving agency, its main document, its
    # attachment and its package signature passed the library's validation
    assert "documents received: ['registered (TOTAL-PASSED)']" in out, out
    assert "by the library: ['PASSED, PASSED, PASSED']" in out, out


def test_the_benchmark_prints_both_ratios_on_sqlite() -> None:
    check_output(run_benchmark())


@pytest.mark.db
def test_the_benchmark_runs_on_postgresql(pg_admin_url: str) -> None:
    name = f"lt_bench_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(pg_admin_url, f"CREATE DATABASE {name}"))
    try:
        out = run_benchmark("--database-url", _with_database(pg_admin_url, name))
    finally:
        asyncio.run(_pg_execute(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    assert "database PostgreSQL" in out
    check_output(out)

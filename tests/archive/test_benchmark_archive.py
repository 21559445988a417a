"""The archive benchmark runs end to end at its smoke sizes (``--small``): every figure it
promises is printed and positive, each seal made one timestamp call for its whole batch, and
its temporary data is gone afterwards."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin import PROJECT_ROOT

pytestmark = pytest.mark.slow

NUMBER = r"[\d,]+(?:\.\d+)?"

LINES = {
    "raw": (
        rf"^1 raw SHA-256 .*: min (?P<min>{NUMBER}) median (?P<median>{NUMBER}) max {NUMBER} "
        r"MB/s$"
    ),
    "small": (
        rf"^2a sealing (?P<docs>{NUMBER}) small documents .*: {NUMBER} s, (?P<rate>{NUMBER}) "
        rf"documents/s, (?P<mbs>{NUMBER}) MB/s; hashing at (?P<share>{NUMBER}) % of raw "
        rf"SHA-256: target >= 50 %: (?:ok|MISSED); (?P<covered>{NUMBER}) documents in "
        rf"(?P<calls>\d+) timestamp call\(s\), .* target >= 50,000: (?:ok|MISSED)$"
    ),
    "large": (
        rf"^2b sealing 4 x 4 MiB .*: min (?P<min>{NUMBER}) median {NUMBER} MB/s, min "
        rf"{NUMBER} median {NUMBER} documents/s; hashing min (?P<share>{NUMBER}) median "
        rf"{NUMBER} % of raw SHA-256 .*: (?:ok|MISSED); (?P<covered>\d+) documents in "
        rf"(?P<calls>\d+) timestamp call\(s\)$"
    ),
    "records": (
        rf"^3 evidence records .*, (?P<size>{NUMBER}) bytes each\): archive.evidence_records "
        rf"min (?P<service>{NUMBER}) median {NUMBER} per s .* archive.ers Seal.record min "
        rf"(?P<ers>{NUMBER}) median {NUMBER} per s; service time / ers time min {NUMBER} "
        rf"median {NUMBER}$"
    ),
    "audit": rf"^4 audit of the large set .*: min (?P<min>{NUMBER}) median {NUMBER} MB/s, .*$",
    "memory": (
        rf"^5 memory .*: (?P<few>{NUMBER}) documents (?P<few_peak>{NUMBER}) MiB .*; "
        rf"(?P<many>{NUMBER}) documents (?P<many_peak>{NUMBER}) MiB .* target flat .*: "
        r"(?:ok|MISSED)$"
    ),
}


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_smoke_run_prints_every_figure_and_cleans_up(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/archive.py", "--small", "--tmpdir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    found = {name: re.search(pattern, proc.stdout, re.MULTILINE) for name, pattern in LINES.items()}
    missing = [name for name, m in found.items() if m is None]
    assert not missing, f"{missing} not printed:\n{proc.stdout}"
    m = {name: match for name, match in found.items() if match is not None}

    assert 0 < number(m["raw"]["min"]) <= number(m["raw"]["median"])
    # the 2,000 small documents all sealed under one timestamp call, the 4 large ones too
    assert number(m["small"]["docs"]) == number(m["small"]["covered"]) == 2000
    assert m["small"]["calls"] == "1"
    assert number(m["small"]["rate"]) > 0 and number(m["small"]["mbs"]) > 0
    assert 0 < number(m["small"]["share"]) < 100
    assert (m["large"]["covered"], m["large"]["calls"]) == ("4", "1")
    assert number(m["large"]["min"]) > 0 and number(m["large"]["share"]) > 0
    # a record of a 2,000-leaf tree: the token plus 11 sibling digests, give or take
    assert number(m["records"]["size"]) > 11 * 32
    assert number(m["records"]["service"]) > 0 and number(m["records"]["ers"]) > 0
    assert number(m["audit"]["min"]) > 0
    assert (number(m["memory"]["few"]), number(m["memory"]["many"])) == (200, 2000)
    assert number(m["memory"]["few_peak"]) > 0 and number(m["memory"]["many_peak"]) > 0
    # the documents, catalogs and store copies are removed at the end
    assert list(tmp_path.iterdir()) == []

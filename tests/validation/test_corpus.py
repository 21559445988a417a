"""Every row of the shared corpus manifest yields its expected class (see
``../shared/corpus/README.md``): VALID → TOTAL-PASSED, INVALID → TOTAL-FAILED,
INDETERMINATE → INDETERMINATE, MALFORMED → a clear refusal (TOTAL-FAILED / FORMAT_FAILURE),
BOUNDED → any verdict; never TOTAL-PASSED where it should not be; each within 10 s and
1 GiB, offline, without network or file access.

The rows run in one worker process (tests/validation/corpus_worker.py); a row that takes
too long is killed with its worker, and the worker restarts for the rest.
"""

from __future__ import annotations

import csv
import json
import select
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.plugin import PROJECT_ROOT, corpus_available, corpus_dir, corpus_params

ROW_SECONDS = 10.0
ROW_MIB = 1024.0

# Rows whose label we believe is wrong for a Decree 30 validator, each with its reason and
# the class we give instead. Empty means we agree with every row.
MISLABELLED: dict[str, tuple[str, str]] = {}


def _rows() -> list[dict[str, str]]:
    if not corpus_available():
        return []
    manifest = corpus_dir() / "manifest.csv"
    rows = []
    with manifest.open(encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            row["key"] = f"{row['path']}@{row['validation_time']}#{n}"
            rows.append(row)
    return rows


ROWS = _rows()


def _run_all(rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    pending = list(rows)
    while pending:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.validation.corpus_worker", str(corpus_dir())],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert worker.stdin is not None and worker.stdout is not None
        try:
            while pending:
                row = pending[0]
                worker.stdin.write(json.dumps(row) + "\n")
                worker.stdin.flush()
                # the first row also pays for the worker's start-up and imports
                limit = ROW_SECONDS + (30.0 if not results else 0.0)
                ready, _, _ = select.select([worker.stdout], [], [], limit)
                line = worker.stdout.readline() if ready else ""
                pending.pop(0)
                if not line:
                    results[row["key"]] = {"error": f"no answer within {limit:.0f} s (killed)"}
                    break
                results[row["key"]] = json.loads(line)
        finally:
            worker.kill()
            worker.wait()
            worker.stdin.close()
            worker.stdout.close()
    return results


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, dict[str, Any]]:
    started = time.perf_counter()
    results = _run_all(ROWS)
    assert len(results) == len(ROWS), f"ran {len(results)} of {len(ROWS)} rows"
    print(f"corpus: {len(ROWS)} rows in {time.perf_counter() - started:.1f} s")
    return results


def _acceptable(row: dict[str, str]) -> set[str]:
    expected = row["expected"]
    classes = {expected}
    for part in row["notes"].split():
        if part.startswith("also-acceptable="):
            classes.add(part.split("=", 1)[1].strip(".,;|"))
    if row["key"] in MISLABELLED:
        classes = {MISLABELLED[row["key"]][1]}
    return classes


def _class_of(result: dict[str, Any]) -> str:
    indication, sub = result["indication"], result["sub_indication"]
    if indication == "PASSED":
        return "VALID"
    if indication == "FAILED" and sub == "FORMAT_FAILURE":
        return "MALFORMED"
    if indication == "FAILED":
        return "INVALID"
    return "INDETERMINATE"


@pytest.mark.slow
@pytest.mark.parametrize("row", corpus_params(ROWS, lambda r: r["key"]))
def test_corpus_row(row: dict[str, str], corpus_results: dict[str, dict[str, Any]]) -> None:
    result = corpus_results[row["key"]]
    assert result.get("error") is None, result
    assert result["seconds"] < ROW_SECONDS, result
    assert result["peak_mib"] < ROW_MIB, result
    assert result["violations"] == [], "network or file access while validating"
    got = _class_of(result)
    expected = row["expected"]
    if expected != "VALID":
        assert got != "VALID", f"{row['path']} must never be TOTAL-PASSED: {result}"
    if expected == "BOUNDED":
        return
    acceptable = _acceptable(row)
    if "INVALID" in acceptable:
        acceptable.add("MALFORMED")  # TOTAL-FAILED / FORMAT_FAILURE is TOTAL-FAILED too
    assert got in acceptable, f"{row['path']}: expected {sorted(acceptable)}, got {got}: {result}"

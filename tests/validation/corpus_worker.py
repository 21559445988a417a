"""Runs corpus rows for tests/validation/test_corpus.py in a separate process.

Reads JSON rows on stdin (one per line), validates each offline with the row's anchors and
pinned time, and writes one JSON line per row: the verdict, the seconds it took, the peak
memory while validating it, and any network or file access attempted while validating (an audit hook
watches ``socket.*`` and ``open`` events once everything is imported).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from tests.memory import peak_kib, reset_peak
from validation import AgencyRule, TrustAnchors, ValidationPolicy, validate_bytes
from validation.cms import validate_cms
from validation.report import Unparseable
from validation.tsp import validate_timestamp

_ROOTS = (sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parents[2]))
_CODE_PREFIXES = tuple(
    {os.path.realpath(p) + os.sep for p in _ROOTS} | {p + os.sep for p in _ROOTS}
)
_watching = False
_violations: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _watching:
        return
    if event.startswith("socket.") and event not in ("socket.__new__",):
        _violations.append(f"{event} {args[1:2]!r}")
    elif event == "open" and args and isinstance(args[0], str | bytes):
        path = os.fsdecode(args[0])
        # the libraries' own code and data (lazy imports, signxml's schemas) are fine;
        # anything else (the document's surroundings, file:// entities, …) is not
        if not path.startswith(_CODE_PREFIXES):
            _violations.append(f"open {path!r}")


def _policy(row: dict[str, str], corpus: Path) -> ValidationPolicy:
    anchors = [corpus / p for p in row["trust_anchor"].split(";") if p]
    when = row["validation_time"]
    return ValidationPolicy(
        anchors=TrustAnchors.from_files({"corpus": anchors}) if anchors else TrustAnchors(),
        validation_time=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
        offline=True,
        revocation="soft",
        agency_rule=AgencyRule(),
    )


def _data_file(row: dict[str, str]) -> str | None:
    for token in row["notes"].replace(",", " ").split():
        if token.startswith("data="):
            return token[len("data=") :].rstrip(".;")
    return None


async def main() -> None:
    global _watching
    corpus = Path(sys.argv[1])
    sys.addaudithook(_audit)
    # warm up: import everything a validation may need before watching
    await validate_bytes(b"%PDF-1.7\n%%EOF\n", ValidationPolicy(offline=True))
    await validate_bytes(b"<a/>", ValidationPolicy(offline=True))
    for warm_up in (validate_cms, validate_timestamp):
        with contextlib.suppress(Unparseable):
            await warm_up(b"\x30\x00", ValidationPolicy(offline=True), detached_data=b"")
    for line in sys.stdin:
        row = json.loads(line)
        policy = _policy(row, corpus)
        data = (corpus / row["path"]).read_bytes()
        detached_name = _data_file(row)
        detached = (corpus / detached_name).read_bytes() if detached_name else None
        _violations.clear()
        reset_peak()
        start = time.perf_counter()
        _watching = True
        try:
            report = await validate_bytes(data, policy, name=row["path"], detached_data=detached)
            error = None
        except Exception as exc:  # reported to the test as a failure
            report, error = None, f"{type(exc).__name__}: {exc}"
        finally:
            _watching = False
        seconds = time.perf_counter() - start
        peak = peak_kib()
        result = {
            "key": row["key"],
            "seconds": seconds,
            "peak_mib": peak / 1024,
            "violations": list(_violations),
            "error": error,
            "indication": None if report is None else report.indication.name,
            "sub_indication": None
            if report is None or report.sub_indication is None
            else report.sub_indication.name,
            "findings": [] if report is None else [f.en for f in report.findings][:3],
            "signatures": []
            if report is None
            else [
                [s.id, s.indication.name, s.sub_indication.name if s.sub_indication else None]
                for s in report.signatures
            ],
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())

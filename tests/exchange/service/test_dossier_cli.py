"""``lienthong dossier`` as a clerk runs it (real processes): a dossier opened, shown and
listed; refusals are one line with their exit code, Vietnamese by default and English with
``--lang en``, never a traceback; nothing changes on a refusal."""

from __future__ import annotations

import json

import pytest

from tests.exchange.service.conftest import AGENCY_A
from tests.exchange.service.test_document_cli import lienthong, node, one_line
from tests.exchange.service.test_signing import settings, tsa_urls

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["node", "settings", "tsa_urls"]

AGENCY = ("--agency", AGENCY_A)


def test_open_show_list_and_refusals(node: dict[str, str]) -> None:
    made = lienthong(
        node, "dossier", "create", "HS07", "--title", "Hồ sơ hội nghị", "--year", "2026",
        "--maintenance", "vĩnh viễn", "--format", "json", *AGENCY,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout)
    code = f"{AGENCY_A}.2026.HS07"
    assert record["code"] == code and record["maintenance"] == "01" and record["state"] == "open"

    listed = lienthong(node, "dossier", "list", *AGENCY)
    assert listed.returncode == 0 and code in listed.stdout and "đang mở" in listed.stdout
    shown = lienthong(node, "--lang", "en", "dossier", "show", code, *AGENCY)
    assert shown.returncode == 0 and "open" in shown.stdout and "Hồ sơ hội nghị" in shown.stdout

    twice = lienthong(
        node, "dossier", "create", "HS07", "--title", "Lại", "--year", "2026", *AGENCY
    )
    assert twice.returncode == 65 and "đã có" in one_line(twice)
    unknown = lienthong(node, "dossier", "add", code, "--outgoing", "khong-co", *AGENCY)
    assert unknown.returncode == 66 and "Không có văn bản đi" in one_line(unknown)
    neither = lienthong(node, "--lang", "en", "dossier", "add", code, *AGENCY)
    assert neither.returncode == 64 and "Name one document" in one_line(neither)
    bad_code = lienthong(
        node, "dossier", "create", "HS08", "--title", "T", "--maintenance", "mãi mãi", *AGENCY
    )
    assert bad_code.returncode == 64 and "Thời hạn bảo quản" in one_line(bad_code)
    empty = lienthong(node, "--lang", "en", "dossier", "close", code, *AGENCY)
    assert empty.returncode == 65 and "holds no document" in one_line(empty)
    for result in (twice, unknown, neither, bad_code, empty):
        assert "Traceback" not in result.stderr

    after = lienthong(node, "dossier", "show", code, "--format", "json", *AGENCY)
    body = json.loads(after.stdout)
    assert body["state"] == "open" and body["items"] == []
    assert "HS08" not in lienthong(node, "dossier", "list", *AGENCY).stdout

"""``lienthong document revoke | update | replace`` as an operator runs them (real processes):
a document not issued cannot be changed, each refusal one line with its exit code, in
Vietnamese by default and English with ``--lang en``; nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.exchange.service.conftest import AGENCY_A
from tests.exchange.service.test_document_cli import lienthong, node, one_line
from tests.exchange.service.test_signing import sample_metadata, settings, tsa_urls

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["node", "settings", "tsa_urls"]


def test_a_draft_cannot_be_revoked_updated_or_replaced(
    node: dict[str, str], tmp_path: Path, sample_pdf: bytes
) -> None:
    main = tmp_path / "cong-van.pdf"
    main.write_bytes(sample_pdf)
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(sample_metadata(), ensure_ascii=False), encoding="utf-8")
    agency = ("--agency", AGENCY_A)
    drafted = lienthong(
        node, "document", "draft", str(main), "--metadata", str(meta), "--user", "a-clerk",
        *agency,
    )  # fmt: skip
    assert drafted.returncode == 0, drafted.stderr
    draft = drafted.stdout.removeprefix("văn bản ").split(" | ", 1)[0]

    revoked = lienthong(node, "document", "revoke", draft, "--reason", "Sai sót", *agency)
    assert revoked.returncode == 65
    assert "Chỉ văn bản đã ban hành và đã gửi" in one_line(revoked)
    english = lienthong(
        node, "--lang", "en", "document", "revoke", draft, "--reason", "Wrong", *agency
    )
    assert english.returncode == 65 and "Only an issued and sent" in one_line(english)
    blank = lienthong(node, "document", "revoke", draft, "--reason", "  ", *agency)
    assert blank.returncode == 64 and "lý do thu hồi" in one_line(blank)
    no_reason = lienthong(node, "document", "revoke", draft, *agency)
    assert no_reason.returncode == 64 and "--reason" in one_line(no_reason)

    updated = lienthong(node, "document", "update", draft, "--by", draft, *agency)
    assert updated.returncode == 65, updated.stderr  # the draft is not signed, let alone issued
    assert "Traceback" not in updated.stderr
    missing = lienthong(
        node, "--lang", "en", "document", "replace", "khong-co-van-ban", "--by", draft, *agency
    )
    assert missing.returncode in (65, 66) and "Traceback" not in missing.stderr

    shown = lienthong(node, "document", "show", draft, "--format", "json", *agency)
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["state"] == "draft" and record["revoked_at"] is None
    assert record["change_type"] == 0 and record["supersedes"] is None

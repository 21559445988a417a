"""Found reviewing our own change: the strict object reader has a budget (a hostile file must
not make it run forever); a file with more objects than the budget must fail, not get the
objects past the budget unchecked."""

from __future__ import annotations

import pytest
from pyhanko.sign.ades.report import AdESStatus

import validation.pdfstructure as structure
from signing.dev.pki import DevPki
from tests.plugin import Decree30Documents
from tests.validation.test_pdf_review import _object_stream_forgery, _policy
from validation import validate_bytes


async def test_objects_beyond_the_budget_fail_closed(
    pki: DevPki, decree30: Decree30Documents, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same as padding a file with MAX_OBJECTS_PARSED tiny objects before the forged one
    monkeypatch.setattr(structure, "MAX_OBJECTS_PARSED", 5)
    forged = _object_stream_forgery(decree30.final, "lone-gt")
    report = await validate_bytes(forged, _policy(pki))
    assert report.indication is AdESStatus.FAILED
    assert not report.legal.valid
    assert all(any("more than 5 objects" in f.en for f in s.findings) for s in report.signatures)

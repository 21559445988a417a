"""A revision that leaves the page tree's inner nodes alone has only the pages it changed
read again (validation/pdfhistory.py): the history, and a failure to read it, are exactly
those of walking every page of every revision, whatever the revision did to its pages."""

from __future__ import annotations

import re

import pytest

from signing import PadesSigner, PadesSpec
from signing.dev.assets import make_sample_cong_van
from signing.dev.pki import DevPki
from tests.plugin import Decree30Documents
from tests.validation.pdfforge import Update, append, page_refs, read_object, stream_object
from validation import pdfhistory
from validation.pdfhistory import read_history
from validation.pdfread import open_pdf
from validation.pdfstructure import read_structure


def _history(data: bytes, incremental: bool) -> tuple[list[pdfhistory.Change], str | None]:
    structure = read_structure(data)
    reader = open_pdf(data, structure)
    saved = pdfhistory.INCREMENTAL_PAGES
    pdfhistory.INCREMENTAL_PAGES = incremental
    try:
        history = read_history(reader, structure, 1)
    finally:
        pdfhistory.INCREMENTAL_PAGES = saved
    return history.changes, history.unreadable


def _same_both_ways(data: bytes) -> tuple[list[pdfhistory.Change], str | None]:
    incremental = _history(data, True)
    assert incremental == _history(data, False)
    return incremental


def _rewrite(data: bytes, number: int, change: bytes) -> bytes:
    """``number``'s dictionary, with ``change`` added before its closing ``>>``."""
    body = read_object(data, number)
    return append(data, Update().add(number, body[: body.rindex(b">>")] + change + b">>"))


LOOK = stream_object(
    b"0 0 1 rg 0 0 100 30 re f", b" /Type /XObject /Subtype /Form /BBox [0 0 100 30]"
)


def _annotation(look: int, rect: bytes = b"[100 100 200 130]") -> bytes:
    """A visible square (it has an appearance of its own, object ``look``)."""
    return b"<< /Type /Annot /Subtype /Square /Rect %b /F 4 /AP << /N %d 0 R >> >>" % (
        rect,
        look,
    )


@pytest.fixture(scope="module")
async def three_pages(pki: DevPki) -> bytes:
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
        make_sample_cong_van(pages=3)
    )
    return signed


async def test_decree30_documents(decree30: Decree30Documents) -> None:
    for data in (decree30.personal, decree30.numbered, decree30.final):
        changes, unreadable = _same_both_ways(data)
        assert unreadable is None and changes


def test_annotations_added_to_one_page(three_pages: bytes) -> None:
    pages = page_refs(three_pages)
    size = int(re.findall(rb"/Size (\d+)", three_pages)[-1])
    # a new annotation in an /Annots array of its own on page 2, and then one more
    first = append(
        three_pages,
        Update()
        .add(size, _annotation(size + 3))
        .add(size + 1, b"[%d 0 R]" % size)
        .add(size + 3, LOOK),
    )
    first = _rewrite(first, pages[1], b" /Annots %d 0 R" % (size + 1))
    second = append(
        first,
        Update()
        .add(size + 2, _annotation(size + 3, b"[300 300 400 330]"))
        .add(size + 1, b"[%d 0 R %d 0 R]" % (size, size + 2)),
    )
    for data in (first, second):
        assert _same_both_ways(data)[1] is None
    added = [c for c in _same_both_ways(second)[0] if c.kind == "annotation"]
    assert [(c.revision, c.page) for c in added] == [(3, 1), (4, 1)]  # page 2, twice


def test_a_page_that_names_another_parent(three_pages: bytes) -> None:
    pages = page_refs(three_pages)
    forged = _rewrite(three_pages, pages[2], b" /Parent %d 0 R" % pages[0])
    unreadable = _same_both_ways(forged)[1]
    assert unreadable is not None and "/Parent" in unreadable


def test_a_page_turned_into_a_tree_node(three_pages: bytes) -> None:
    pages = page_refs(three_pages)
    forged = _rewrite(three_pages, pages[1], b" /Kids [%d 0 R]" % pages[0])
    _same_both_ways(forged)


def test_a_page_replaced_by_something_else(three_pages: bytes) -> None:
    pages = page_refs(three_pages)
    forged = append(three_pages, Update().add(pages[1], b"null"))
    _same_both_ways(forged)
    forged = append(three_pages, Update().add(pages[1], b"[1 2 3]"))
    _same_both_ways(forged)

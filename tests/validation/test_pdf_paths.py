"""The reference paths of pyHanko's change analysis, computed only for the objects asked
about (validation/pdfpaths.py), are exactly the ones pyHanko computes for every object: for
every object of every revision of our own documents, of forgeries, and of the third-party
corpus (hostile files included); and where pyHanko's walk fails, ours fails the same way.
The remembered revision where each object last changed is pyHanko's answer too."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.pdf_utils.xref import XRefCache

import validation.pdf  # noqa: F401 - installs the targeted paths
from signing import PadesSigner, PadesSpec
from signing.dev.pki import DevPki
from tests.plugin import Decree30Documents, require_corpus
from tests.validation.test_pdf_forgeries import (
    _with_object_streams,
    duplicate_entry,
    padded_signature_dictionary,
    redefined_object_stream,
)
from validation.pdfpaths import (
    PYHANKO_LAST_CHANGE,
    PYHANKO_LOAD_PATHS,
    last_change,
    load_paths,
    usages_of,
)

ASKED_PER_REVISION = 400
"""Objects compared per revision (all of them in our own documents)."""


def _differences(data: bytes) -> tuple[int, list[str]]:
    """Revisions compared, and what differs between pyHanko's paths and ours."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        revisions = reader.xrefs.total_revisions
    except Exception:  # unreadable before any path is asked for: nothing to compare
        return 0, []
    problems: list[str] = []
    try:
        size = int(reader.trailer["/Size"])
    except Exception:  # a trailer without a usable /Size: ask about a few objects anyway
        size = 10
    for number in range(1, size + 3):
        for generation in (0, 1):
            ref = generic.Reference(number, generation, reader)
            ours = _last_change_of(last_change, reader, ref)
            theirs = _last_change_of(PYHANKO_LAST_CHANGE, reader, ref)
            if ours != theirs:
                problems.append(f"{ref} last changed in {ours}, pyHanko says {theirs}")
    compared = 0
    for revision in range(revisions):
        try:
            theirs = reader.get_historical_resolver(revision)
            ours = reader.get_historical_resolver(revision)
        except Exception:  # noqa: S112 - a revision pyHanko cannot open is asked nothing
            continue
        errors: list[type[BaseException] | None] = []
        for resolver, load in ((theirs, PYHANKO_LOAD_PATHS), (ours, load_paths)):
            try:
                load(resolver)
                errors.append(None)
            except Exception as exc:  # the same failure, whatever it is
                errors.append(type(exc))
        compared += 1
        if errors[0] is not errors[1]:
            problems.append(f"revision {revision}: pyHanko {errors[0]}, ours {errors[1]}")
            continue
        if errors[0] is not None:
            continue
        every = theirs._indirect_object_access_cache or {}
        asked = list(every)[:ASKED_PER_REVISION]
        asked += [generic.Reference(n, 0, ours) for n in range(1, 12)]  # some never reached
        for ref in asked:
            if usages_of(ours, ref) != every.get(ref, set()):
                problems.append(f"revision {revision}: the paths to {ref} differ")
    return compared, problems


def _last_change_of(lookup: Any, reader: PdfFileReader, ref: generic.Reference) -> int | None:
    for _ in range(2):  # asked twice: the remembered answer is the same
        try:
            answer: int | None = lookup(reader.xrefs, ref)
        except KeyError:
            answer = None
    return answer


def test_the_installed_walk_is_ours() -> None:
    assert HistoricalResolver._load_reverse_xref_cache is load_paths
    assert HistoricalResolver._get_usages_of_ref is usages_of
    assert XRefCache.get_last_change is last_change


async def test_our_documents_and_forgeries(
    pki: DevPki, decree30: Decree30Documents, sample_pdf: bytes
) -> None:
    signer = PadesSigner(pki.in_memory_key("personal"), PadesSpec())
    plain, _ = await signer.sign_bytes(sample_pdf)
    in_streams, _ = await signer.sign_bytes(_with_object_streams(sample_pdf))
    documents = [
        decree30.draft,
        decree30.personal,
        decree30.numbered,
        decree30.final,
        in_streams,
        duplicate_entry(plain),
        padded_signature_dictionary(decree30.final),
        redefined_object_stream(in_streams),
    ]
    revisions = 0
    for data in documents:
        compared, problems = _differences(data)
        assert not problems
        revisions += compared
    assert revisions >= 20


def test_the_third_party_corpus() -> None:
    corpus = require_corpus()
    files = sorted([*corpus.glob("pdf-signed/**/*.pdf"), *corpus.glob("pdf-malformed/**/*.pdf")])
    assert files
    revisions = 0
    for path in files:
        compared, problems = _differences(Path(path).read_bytes())
        assert not problems, path.name
        revisions += compared
    assert revisions > len(files) // 2

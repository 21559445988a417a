"""The reference paths of pyHanko's change analysis, computed for the objects it asks about.

pyHanko's difference analysis (``StandardDiffPolicy.apply``) asks, for each object a later
revision overwrites and for each form field and appearance it checks, through which paths
(``/Root /AcroForm /Fields 0``, ``/Root /Pages /Kids 3 /Annots 1`` ...) the signed revision
reaches that object (``HistoricalResolver._get_usages_of_ref``). pyHanko 0.38 answers by
enumerating, once per signed revision, every path to every object of the document
(``_load_reverse_xref_cache``): on a 1,000-page document half a million paths (each page's
fonts and images are reached through each page), 60-70 % of a validation, whatever the later
revisions changed.

Written by hand here: the same paths, computed only for the objects asked about. When
pyHanko prepares the analysis, every object the signed revision reaches is resolved once (so
an object pyHanko cannot read fails the analysis as it did: every object reachable from the
trailer through any key is read, a superset of those pyHanko's walk reads) and an index of
which objects refer to which is built. Asked about one object, the walk is pyHanko's walk
(the same rules: ``/Parent`` keys skipped, page tree nodes entered only along their path
through the tree, the structure tree's elements only from ``/Root /StructTreeRoot /K``, a
path never passing one object twice), pruned to the objects from which the asked object can
be reached at all: a pruned object leads to no path to it under any rule, so the paths found
are exactly pyHanko's (a test compares both for every object of many documents). The answer
is kept for the revision's later questions.

Installed once, when :mod:`validation.pdf` is imported, and never switched off (as
:mod:`validation.hexstrings`).
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.pdf_utils.xref import XRefCache

__all__ = [
    "PYHANKO_GET_USAGES",
    "PYHANKO_LAST_CHANGE",
    "PYHANKO_LOAD_PATHS",
    "install_targeted_paths",
    "last_change",
    "load_paths",
    "usages_of",
]

Path = Any  # misc.ConsList[str | int], pyHanko's linked list of path steps

PYHANKO_LOAD_PATHS: Callable[[HistoricalResolver], None] = (
    HistoricalResolver._load_reverse_xref_cache
)
PYHANKO_GET_USAGES: Callable[[HistoricalResolver, generic.Reference], set[RawPdfPath]] = (
    HistoricalResolver._get_usages_of_ref
)
"""pyHanko's own methods, as shipped (for the equivalence test and the benchmark)."""


@dataclass(slots=True)
class _Paths:
    """What one signed revision's walk needs, and the answers given so far."""

    page_tree: dict[generic.Reference, Path]
    struct_tree: set[generic.Reference]
    referrers: dict[generic.Reference, set[generic.Reference | None]]
    """For each object, the objects whose value refers to it (``None``: the trailer)."""
    answers: dict[generic.Reference, set[RawPdfPath]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE: weakref.WeakKeyDictionary[HistoricalResolver, _Paths] = weakref.WeakKeyDictionary()
_STATE_LOCK = threading.Lock()


def _page_tree_nodes(resolver: HistoricalResolver) -> dict[generic.Reference, Path]:
    """Each page tree node and its path through the tree (pyHanko's "canonical" path); a
    node listed twice is a circular tree, refused as pyHanko refuses it."""

    def kids_of(pages: Any, path: Path) -> Iterator[tuple[generic.Reference, Path]]:
        for index, kid in enumerate(pages["/Kids"]):
            kid_path = path.cons("/Kids").cons(index)
            if isinstance(kid, generic.IndirectObject):
                yield kid.reference, kid_path
            kid = kid.get_object()
            if kid.get("/Type", None) == "/Pages":
                yield from kids_of(kid, kid_path)

    pages_ref = resolver.root.raw_get("/Pages")
    pages_path = misc.ConsList.sing("/Root").cons("/Pages")
    nodes: dict[generic.Reference, Path] = {}
    if isinstance(pages_ref, generic.IndirectObject):
        nodes[pages_ref.reference] = pages_path
    for ref, path in kids_of(pages_ref.get_object(), pages_path):
        if ref in nodes:
            raise misc.PdfReadError("Circular reference in page tree in mapping stage")
        nodes[ref] = path
    return nodes


def _struct_tree_nodes(resolver: HistoricalResolver) -> set[generic.Reference]:
    """The structure elements under ``/StructTreeRoot`` (each once, else refused)."""

    def elements(element: Any) -> Iterator[generic.Reference]:
        try:
            children = element["/K"]
        except KeyError:
            return
        if not isinstance(children, generic.ArrayObject):
            children = (children,)
        for child in children:
            child_ref = None
            if isinstance(child, generic.IndirectObject):
                child_ref = child.reference
                child = child.get_object()
            if not isinstance(child, generic.DictionaryObject):
                continue
            try:
                if child["/Type"] != "/StructElem":
                    continue
            except KeyError:
                pass  # /StructElem is the default type
            if child_ref is not None:
                yield child_ref
            yield from elements(child)

    nodes: set[generic.Reference] = set()
    try:
        root = resolver.root.raw_get("/StructTreeRoot").get_object()
        for ref in elements(root):
            if ref in nodes:
                raise misc.PdfReadError("Circular reference in structure tree in mapping stage")
            nodes.add(ref)
    except KeyError:
        pass
    return nodes


def _refs_in(value: Any) -> Iterator[generic.Reference]:
    """Every reference written in a value (through its direct dictionaries and arrays,
    whatever the key)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, generic.IndirectObject):
            yield item.reference
        elif isinstance(item, generic.DictionaryObject):
            stack.extend(item.values())  # dict's own: the values as written, unresolved
        elif isinstance(item, generic.ArrayObject):
            stack.extend(item)


def load_paths(resolver: HistoricalResolver) -> None:
    """In place of ``HistoricalResolver._load_reverse_xref_cache``: read every object the
    revision reaches and index who refers to whom (once per resolver)."""
    with _STATE_LOCK:
        if resolver in _STATE:
            return
    page_tree = _page_tree_nodes(resolver)
    struct_tree = _struct_tree_nodes(resolver)
    referrers: dict[generic.Reference, set[generic.Reference | None]] = defaultdict(set)
    pending: list[tuple[generic.Reference | None, Any]] = [(None, resolver.trailer_view)]
    read: set[generic.Reference] = set()
    while pending:
        holder, value = pending.pop()
        for ref in _refs_in(value):
            referrers[ref].add(holder)
            if ref not in read:
                read.add(ref)
                pending.append((ref, resolver(ref)))
    state = _Paths(page_tree=page_tree, struct_tree=struct_tree, referrers=dict(referrers))
    with _STATE_LOCK:
        _STATE.setdefault(resolver, state)


def usages_of(resolver: HistoricalResolver, target: generic.Reference) -> set[RawPdfPath]:
    """In place of ``HistoricalResolver._get_usages_of_ref``: the paths through which the
    revision reaches ``target`` (none before :func:`load_paths`, as pyHanko's)."""
    with _STATE_LOCK:
        state = _STATE.get(resolver)
    if state is None:
        return set()
    with state.lock:
        known = state.answers.get(target)
        if known is None:
            known = state.answers[target] = _walk(resolver, state, target)
        return set(known)


def _ancestors(state: _Paths, target: generic.Reference) -> set[generic.Reference]:
    """The objects from which ``target`` can be reached by references at all."""
    found: set[generic.Reference] = set()
    pending = [target]
    while pending:
        for holder in state.referrers.get(pending.pop(), ()):
            if holder is not None and holder not in found:
                found.add(holder)
                pending.append(holder)
    return found


def _walk(
    resolver: HistoricalResolver, state: _Paths, target: generic.Reference
) -> set[RawPdfPath]:
    if target not in state.referrers:
        return set()
    through = _ancestors(state, target)
    page_tree, struct_tree = state.page_tree, state.struct_tree
    found: list[Path] = []
    root_struct = misc.ConsList.sing("/Root")

    # A value leads somewhere when it is a reference to the target or to an object that leads
    # to it, or a direct dictionary or array; at numbers, names, strings and other references
    # visit() would return at once. Tested inline in the loops below: a call per value was
    # most of the walk's time.
    indirect, containers = generic.IndirectObject, (generic.DictionaryObject, generic.ArrayObject)

    def visit(obj: Any, path: Path, seen: Path, in_struct_tree: bool) -> None:
        if isinstance(obj, generic.IndirectObject):
            ref = obj.reference
            if ref in seen:
                return
            if ref == target:
                found.append(path)
                return  # a path through the target never comes back to it
            if ref not in through:
                return  # nothing there leads to the target
            seen = seen.cons(ref)
            obj = resolver(ref)
            if path != page_tree.get(ref, path):
                return  # a page tree node, entered other than through the tree
            if not in_struct_tree and ref in struct_tree:
                return
        if isinstance(obj, generic.DictionaryObject):
            for key, value in obj.items():
                if key == "/Parent" or (in_struct_tree and key == "/P"):
                    continue
                if not (
                    (value.reference == target or value.reference in through)
                    if isinstance(value, indirect)
                    else isinstance(value, containers)
                ):
                    continue
                visit(
                    value,
                    path.cons(key),
                    seen,
                    in_struct_tree
                    or (
                        path.head == "/StructTreeRoot" and key == "/K" and path.tail == root_struct
                    ),
                )
        elif isinstance(obj, generic.ArrayObject):
            for index, value in enumerate(obj):
                if (
                    (value.reference == target or value.reference in through)
                    if isinstance(value, indirect)
                    else isinstance(value, containers)
                ):
                    visit(value, path.cons(index), seen, in_struct_tree)

    visit(resolver.trailer_view, misc.ConsList.empty(), misc.ConsList.empty(), False)
    return {RawPdfPath(*reversed(list(p))) for p in found}


PYHANKO_LAST_CHANGE: Callable[[XRefCache, generic.Reference], int] = XRefCache.get_last_change
_NEVER = -1


def last_change(xrefs: XRefCache, ref: generic.Reference) -> int:
    """In place of ``XRefCache.get_last_change`` (the revision that last defined ``ref``,
    asked for every object a historical revision reads): pyHanko's answer, remembered per
    reader and object. The sections of a file read are never changed, so the answer holds;
    pyHanko finds it by trying each section in turn, an exception for each miss."""
    memo: dict[tuple[int, int], int] = vars(xrefs).setdefault("_last_changes", {})
    key = (ref.idnum, ref.generation)
    found = memo.get(key)
    if found is None:
        try:
            found = PYHANKO_LAST_CHANGE(xrefs, ref)
        except KeyError:
            found = _NEVER
        memo[key] = found
    if found == _NEVER:
        raise KeyError(ref)
    return found


_LOCK = threading.Lock()


def install_targeted_paths() -> None:
    """Make pyHanko's resolvers answer path questions with :func:`usages_of`, and its
    cross-reference data remember where each object last changed (:func:`last_change`),
    once and for good."""
    with _LOCK:
        if HistoricalResolver._load_reverse_xref_cache is not load_paths:
            HistoricalResolver._load_reverse_xref_cache = load_paths  # type: ignore[method-assign]
            HistoricalResolver._get_usages_of_ref = usages_of  # type: ignore[method-assign,assignment]
        if XRefCache.get_last_change is not last_change:
            XRefCache.get_last_change = last_change  # type: ignore[method-assign,assignment]

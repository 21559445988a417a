"""Canonicalisation of a subtree as the C14N specs define it, for what a reference digests,
signxml's ``ds:SignedInfo`` and what a signature timestamp covers. Part of
:mod:`validation.xml`.

**Canonicalisation.** libxml2 (lxml 6.1, libxml2 2.14) renders a spurious ``xmlns=""`` in
the inclusive C14N of a subtree whose default namespace is declared above it (on its
grandchildren and deeper). signxml's ``excise_empty_xmlns_declarations`` deletes every
`` xmlns=""`` from the output, which also deletes legitimate undeclarations and the same
characters inside text nodes (where C14N does not escape quotes), so two different
documents would canonicalise alike. We leave it off and instead canonicalise a subtree as
the root of a copy that carries its in-scope namespaces: the spec's result, with no excision.
The copy also carries the ``xml:*`` attributes inclusive C14N makes a subtree inherit from
its ancestors (C14N 1.0 §2.4: all of them; C14N 1.1: ``xml:lang`` and ``xml:space``, with
``xml:base`` fixed up), which lxml's subtree C14N leaves out: a signature xmlsec1 made over a
document with ``xml:lang`` on its root verifies. Exclusive C14N inherits none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree
from signxml.algorithms import CanonicalizationMethod

from validation.xmlread import EXC_C14N_NS, copy_element

__all__ = ["DEFAULT_C14N", "canonical"]

DEFAULT_C14N = CanonicalizationMethod.CANONICAL_XML_1_0
"""A reference without a canonicalisation transform is rendered with inclusive C14N 1.0
(XMLDSig §4.4.3.2)."""


def canonical(
    element: etree._Element,
    method: CanonicalizationMethod,
    prefixes: Sequence[str] | None = None,
    *,
    comments: bool = True,
    placed: etree._Element | None = None,
) -> bytes:
    """C14N of ``element`` and its descendants, as the spec defines it: rendered as the root
    of a copy, because libxml2's subtree C14N adds a spurious ``xmlns=""`` under a default
    namespace declared above the subtree (see the module docstring), with the ``xml:*``
    attributes inclusive C14N inherits from the ancestors (:func:`_inherited_xml_attributes`).
    ``placed``: where ``element`` stands in the document when ``element`` itself is a copy
    cut from its ancestors (signxml canonicalises ``ds:SignedInfo`` in a copy of the
    signature). ``comments=False``: the input node-set has no comments (what a ``URI=""`` or
    ``#id`` reference yields), so a WithComments method renders none either."""
    origin = element if placed is None else placed
    exclusive = method.value.startswith(EXC_C14N_NS)
    node = element
    if origin.getparent() is not None:
        node = copy_element(element)
        if not exclusive:
            for name, value in _inherited_xml_attributes(origin, method).items():
                if value is None:
                    node.attrib.pop(name, "")
                else:
                    node.set(name, value)
    return etree.tostring(
        node,
        method="c14n",
        exclusive=exclusive,
        with_comments=comments and method.value.endswith("#WithComments"),
        # a PrefixList means something to exclusive C14N only (libxml2 fails on it otherwise)
        inclusive_ns_prefixes=list(prefixes) if prefixes and exclusive else None,
    )


_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML = f"{{{_XML_NS}}}"
_C14N_11 = frozenset(
    {
        CanonicalizationMethod.CANONICAL_XML_1_1,
        CanonicalizationMethod.CANONICAL_XML_1_1_WITH_COMMENTS,
    }
)


def _inherited_xml_attributes(
    element: etree._Element, method: CanonicalizationMethod
) -> dict[str, str | None]:
    """The ``xml:*`` attributes inclusive C14N renders on the apex of a subtree whose
    ancestors are not in the node-set (``None``: the element's own one is not rendered), as
    libxml2 (and so xmlsec1) computes them:

    - C14N 1.0 §2.4: the nearest occurrence of every ``xml:*`` attribute of the ancestors the
      element does not carry itself;
    - C14N 1.1 §2.4: so for ``xml:lang`` and ``xml:space`` only (``xml:id`` is not inherited);
      ``xml:base`` is fixed up: the element's value (or the nearest ancestor's) resolved
      against each ancestor's value above it in turn (RFC 3986; a value whose last but one
      character is ``.`` gets a ``/`` appended first, as libxml2 does), omitted when empty.

    Exclusive C14N inherits nothing."""
    ancestors = list(element.iterancestors())
    inherited: dict[str, str | None] = {}
    if method not in _C14N_11:
        for ancestor in ancestors:
            for key, value in ancestor.attrib.items():
                name = str(key)
                if name.startswith(_XML) and name not in element.attrib:
                    inherited.setdefault(name, str(value))
        return inherited
    for local in ("lang", "space"):
        name = _XML + local
        if name not in element.attrib:
            found = next((a.get(name) for a in ancestors if a.get(name) is not None), None)
            if found is not None:
                inherited[name] = str(found)
    bases = [str(b) for b in (e.get(_XML + "base") for e in (element, *ancestors)) if b is not None]
    if bases:
        joined = bases[0]
        for base in bases[1:]:
            if len(base) > 1 and base[-2] == ".":
                base += "/"
            joined = _join_uri(joined, base)
        inherited[_XML + "base"] = joined or None
    return inherited


_URI_PARTS = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)


def _join_uri(reference: str, base: str) -> str:
    """``reference`` resolved against ``base`` (RFC 3986 §5.2.2)."""
    ref = _URI_PARTS.fullmatch(reference)
    bas = _URI_PARTS.fullmatch(base)
    if ref is None or bas is None:  # pragma: no cover - the pattern matches any string
        return reference
    r_scheme, r_auth, r_path, r_query, r_frag = ref.groups()
    b_scheme, b_auth, b_path, b_query, _ = bas.groups()
    if r_scheme is not None:
        scheme, auth, path, query = r_scheme, r_auth, _remove_dot_segments(r_path), r_query
    elif r_auth is not None:
        scheme, auth, path, query = b_scheme, r_auth, _remove_dot_segments(r_path), r_query
    else:
        scheme, auth = b_scheme, b_auth
        if not r_path:
            path, query = b_path, (r_query if r_query is not None else b_query)
        else:
            if r_path.startswith("/"):
                path = _remove_dot_segments(r_path)
            elif b_auth is not None and not b_path:
                path = _remove_dot_segments("/" + r_path)
            else:
                path = _remove_dot_segments(b_path[: b_path.rfind("/") + 1] + r_path)
            query = r_query
    out = "" if scheme is None else f"{scheme}:"
    out += "" if auth is None else f"//{auth}"
    out += path
    out += "" if query is None else f"?{query}"
    return out + ("" if r_frag is None else f"#{r_frag}")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:] if path.startswith("/../") else "/"
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            cut = path.find("/", 1)
            segment, path = (path, "") if cut < 0 else (path[:cut], path[cut:])
            out.append(segment)
    return "".join(out)

"""Judging signatures: PAdES, XMLDSig/XAdES, CMS and RFC 3161 timestamps (issue 3).

Empty for now: the validation room is built in its own issue.
"""

__all__: list[str] = []

"""The service: command line, HTTP API, database, agency directory, document lifecycle.

It is the top room and the composition root: it wires the lower rooms together.
So far it holds the command-line program (``lienthong``); the HTTP service comes later.
"""

__all__: list[str] = []

"""The HTTP API: :func:`create_app` builds it from settings; routes are thin (parse,
authorise, call one service function, serialise) and every error is problem+json."""

from exchange.api.app import create_app

__all__ = ["create_app"]

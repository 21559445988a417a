"""The e-mail gateway for agencies still on mail (later issue)."""

__all__: list[str] = []

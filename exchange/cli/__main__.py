"""``python -m exchange.cli`` runs the ``lienthong`` program."""

from exchange.cli import main

main()

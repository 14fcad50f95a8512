"""``python -m slawatch``: the same as the ``slawatch`` command."""

from slawatch.cli import main

main()

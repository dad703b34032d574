"""``python -m kakehashi``: the same as the ``kakehashi`` command."""

from kakehashi.cli.app import main

main()

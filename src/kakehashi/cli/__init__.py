"""The ``kakehashi`` command: thin Typer commands over the library's own calls."""

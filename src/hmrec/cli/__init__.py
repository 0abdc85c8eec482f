"""The ``hmrec`` command: a thin typer app over the library."""

from hmrec.cli.main import app, main

__all__ = ["app", "main"]

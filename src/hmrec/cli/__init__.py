"""The ``hmrec`` command: a thin typer app over the library."""

from hmrec.cli.main import app, main

# the command modules register on ``app`` (they import it from hmrec.cli.main, which therefore cannot import them)
from hmrec.cli import commands  # noqa: E402,F401,I001  isort: skip

__all__ = ["app", "main"]

"""The project's exceptions.

Every user mistake (a missing file, a bad column, an unknown model, k < 1) raises a subclass of
:class:`HmrecError` whose message is one line naming the thing and the fix; the CLI prints that line and
exits with code 2. Anything else is a bug and is allowed to traceback.
"""

from __future__ import annotations

from pathlib import Path


class HmrecError(Exception):
    """Base class for errors caused by the user's input, reported as one line with exit code 2."""


class DataError(HmrecError):
    """A data file is missing, malformed or inconsistent.

    The message names the file, the column and the row (1-based data row, header excluded) where they apply,
    and the fix.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        column: str | None = None,
        row: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.column = column
        self.row = row
        self.problem = problem
        self.fix = fix
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if column is not None:
            parts.append(f"column '{column}'")
        if row is not None:
            parts.append(f"row {row}")
        where = ", ".join(parts)
        message = f"{where}: {problem}" if where else problem
        if fix:
            message += f" (fix: {fix})"
        super().__init__(message)


class ParameterError(HmrecError, ValueError):
    """A parameter is out of range or unknown: names the parameter, the allowed values and the value received."""


class UnknownModelError(ParameterError):
    """A model name that is not in the registry."""


class UnknownCustomerError(HmrecError, KeyError):
    """A customer id that is not in customers.csv."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NotFittedError(HmrecError, RuntimeError):
    """A model was asked to recommend before ``fit``."""


class ModelMismatchError(HmrecError):
    """A saved model does not match the data it is applied to."""

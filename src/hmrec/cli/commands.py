"""Imports every command module so that its commands register on the app."""

import importlib
import pkgutil

import hmrec.cli as _pkg

for _info in pkgutil.iter_modules(_pkg.__path__):
    if _info.name.startswith("cmd_"):
        importlib.import_module(f"hmrec.cli.{_info.name}")

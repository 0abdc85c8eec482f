"""Imports every command module (``cmd_*``) of this package so that its commands register on the app."""

import importlib
import pkgutil
from pathlib import Path

for _info in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _info.name.startswith("cmd_"):
        importlib.import_module(f"{__package__}.{_info.name}")

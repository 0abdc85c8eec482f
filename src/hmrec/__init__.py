"""hmrec: recommendations for fashion retail, built around the H&M Personalized Fashion Recommendations data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hmrec")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]

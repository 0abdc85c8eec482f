"""Reading the competition files, the typed cache, the Dataset, splits and the synthetic generator."""

from hmrec.data.dataset import Dataset

__all__ = ["Dataset"]

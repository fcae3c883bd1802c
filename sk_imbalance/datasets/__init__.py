"""Offline data: long-tailed versions of any data set and of scikit-learn's bundled data."""

from ._docstrings import load_docstrings
from ._long_tail import load_long_tailed, long_tail_counts, make_long_tailed

__all__ = ["load_docstrings", "load_long_tailed", "long_tail_counts", "make_long_tailed"]

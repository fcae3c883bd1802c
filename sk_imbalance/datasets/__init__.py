"""Offline data: real imbalanced tabular data bundled with the package (KEEL), long-tailed
versions of any data set and of scikit-learn's bundled data, an imbalanced multi-label
generator, a real text collection (docstrings of installed packages) and a CSV loader.
Nothing is downloaded."""

from ._csv import load_csv
from ._docstrings import load_docstrings
from ._imbalanced import list_imbalanced, load_imbalanced
from ._long_tail import load_long_tailed, long_tail_counts, make_long_tailed
from ._multilabel import make_imbalanced_multilabel
from ._prior_shift import make_prior_shift

__all__ = [
    "list_imbalanced",
    "load_csv",
    "load_docstrings",
    "load_imbalanced",
    "load_long_tailed",
    "long_tail_counts",
    "make_imbalanced_multilabel",
    "make_long_tailed",
    "make_prior_shift",
]

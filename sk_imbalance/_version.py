"""The package version (one place: read by ``__init__``, the pickles and the build)."""

__version__ = "0.1.0.dev0"

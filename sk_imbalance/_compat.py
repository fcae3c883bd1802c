"""The one place that imports scikit-learn's private helpers.

scikit-learn's own estimators use these; they are not public API and have moved
between releases. Importing them here only means that a change in scikit-learn is
mended in one file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import _check_method_params, _check_sample_weight

__all__ = [
    "Interval",
    "StrOptions",
    "_check_method_params",
    "_check_sample_weight",
    "_fit_context",
    "_raise_for_params",
    "_routing_enabled",
    "validate_params",
]

"""Cases run by the property-based tests, per estimator and outcome.

Filled by ``tests/test_properties.py`` and printed at the end of the pytest run by
``tests/conftest.py`` (``pytest_terminal_summary``).
"""

from collections import Counter

CASES: Counter = Counter()

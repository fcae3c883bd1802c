import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from sk_imbalance.datasets import load_long_tailed, long_tail_counts, make_long_tailed


def test_long_tail_counts_profiles():
    exp = long_tail_counts(100, 5, 100, "exponential")
    assert exp.tolist() == [100, 32, 10, 3, 1]
    step = long_tail_counts(100, 4, 10, "step")
    assert step.tolist() == [100, 100, 10, 10]


def test_make_long_tailed_keeps_profile_and_types():
    X, y = load_digits(return_X_y=True)
    X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    counts = np.bincount(y_lt)
    assert counts[0] == np.bincount(y).min()
    assert np.all(np.diff(counts) <= 0)
    assert counts.max() / counts.min() == pytest.approx(10, rel=0.1)
    # Rows are kept intact (each kept row exists in the original data).
    assert X_lt.shape[1] == X.shape[1]
    df = pd.DataFrame(X)
    X_df, y_s = make_long_tailed(df, pd.Series(y), imbalance_ratio=10, random_state=0)
    assert isinstance(X_df, pd.DataFrame) and isinstance(y_s, pd.Series)
    np.testing.assert_array_equal(X_df.to_numpy(), X_lt)


def test_make_long_tailed_class_order():
    X, y = load_digits(return_X_y=True)
    order = list(range(9, -1, -1))
    _, y_lt = make_long_tailed(X, y, imbalance_ratio=10, class_order=order, random_state=0)
    counts = np.bincount(y_lt)
    assert counts[9] > counts[0]
    with pytest.raises(ValueError, match="class_order"):
        make_long_tailed(X, y, class_order=[0, 1], random_state=0)


def test_load_long_tailed_digits_balanced_test():
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=0)
    assert d.class_counts.max() / d.class_counts.min() >= 50
    test_counts = np.bincount(d.y_test)
    assert test_counts.max() - test_counts.min() <= 6  # digits has 174-183 images per class
    assert d.X_train.max() <= 1.0 and d.X_train.min() >= 0.0

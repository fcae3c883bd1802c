import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from sk_imbalance.datasets import (
    list_imbalanced,
    load_imbalanced,
    load_long_tailed,
    long_tail_counts,
    make_long_tailed,
)


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


def test_bundled_imbalanced_data_match_their_index():
    index = list_imbalanced()
    assert 5 <= len(index) <= 8
    assert index["n_samples"].min() < 300 and index["n_samples"].max() > 1000
    assert index["imbalance_ratio"].min() < 3 and index["imbalance_ratio"].max() > 20
    for name, row in index.iterrows():
        X, y = load_imbalanced(name, return_X_y=True)
        assert X.shape == (row["n_samples"], row["n_features"]) and X.dtype == np.float64
        assert set(np.unique(y)) == {0, 1} and int(y.sum()) == row["n_minority"]
        ratio = (len(y) - y.sum()) / y.sum()
        assert ratio == pytest.approx(row["imbalance_ratio"], abs=0.01)
        assert np.isfinite(X).all()


def test_load_imbalanced_bunch_frame_and_errors():
    bunch = load_imbalanced("glass5")
    assert bunch.frame is None and bunch.feature_names[0] == "x0"
    assert "KEEL" in bunch.DESCR and "UCI Glass Identification" in bunch.DESCR
    assert bunch.imbalance_ratio == pytest.approx(22.78)
    framed = load_imbalanced("glass5", as_frame=True)
    assert isinstance(framed.data, pd.DataFrame) and framed.target.name == "target"
    assert list(framed.frame.columns) == framed.feature_names + ["target"]
    np.testing.assert_array_equal(framed.data.to_numpy(), bunch.data)
    X, y = load_imbalanced("glass5", return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    with pytest.raises(ValueError, match="Unknown imbalanced data set 'nope'; bundled: glass0"):
        load_imbalanced("nope")


def test_bundled_data_are_small_package_data():
    from importlib import resources

    folder = resources.files("sk_imbalance.datasets").joinpath("data")
    sizes = {p.name: len(p.read_bytes()) for p in folder.iterdir() if p.name.endswith(".gz")}
    assert set(sizes) == {f"{name}.csv.gz" for name in list_imbalanced().index}
    assert sum(sizes.values()) < 1_000_000

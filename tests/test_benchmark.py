import numpy as np
import pandas as pd
import pytest
from imblearn import FunctionSampler
from imblearn.pipeline import make_pipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from sk_imbalance.__main__ import main as cli_main
from sk_imbalance.benchmark import METRICS, Method, make_folds, run_benchmark, score_predictions
from sk_imbalance.benchmark._cli import main as benchmark_main
from sk_imbalance.datasets import load_csv, make_imbalanced_multilabel

SEEN = {"fit": [], "predict": [], "resample": []}


class _Recorder(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the ids (column 0) it is fitted and asked on."""

    def __init__(self, tag="a"):
        self.tag = tag

    def fit(self, X, y):
        SEEN["fit"].append((self.tag, np.sort(X[:, 0]).astype(int)))
        self.lr_ = LogisticRegression(max_iter=500).fit(X[:, 1:], y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        SEEN["predict"].append((self.tag, np.sort(X[:, 0]).astype(int)))
        return self.lr_.predict_proba(X[:, 1:])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _record_and_oversample(X, y):
    SEEN["resample"].append(np.sort(X[:, 0]).astype(int))
    rng = np.random.RandomState(0)
    counts = np.bincount(y)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), counts.max(), replace=True) for c in np.unique(y)]
    )
    return X[idx], y[idx]


@pytest.fixture
def tiny():
    X, y = make_classification(
        240, 6, n_informative=4, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0
    )
    ids = np.arange(len(y), dtype=float)[:, None]
    return "tiny", np.hstack([ids, X]), y


def test_run_benchmark_returns_documented_frame(tiny):
    df = run_benchmark(["logistic_regression_balanced"], [tiny], cv=3, progress=False)
    assert list(df.columns) == ["dataset", "method", "family", "fold", "metric", "value"]
    assert len(df) == 1 * 1 * 3 * len(METRICS)
    assert set(df["metric"]) == set(METRICS)
    assert df["fold"].tolist().count(0) == len(METRICS)
    quality = df[df["metric"] != "fit_time"]["value"]
    assert quality.between(0, 1).all()
    assert (df[df["metric"] == "fit_time"]["value"] > 0).all()
    assert set(df["family"]) == {"incumbent"}


def test_folds_identical_across_methods_and_resampling_only_on_training_folds(tiny):
    for v in SEEN.values():
        v.clear()
    methods = [
        Method("rec_a", lambda s: _Recorder("a"), "ours"),
        Method(
            "rec_b_resampled",
            lambda s: make_pipeline(
                FunctionSampler(func=_record_and_oversample, validate=False), _Recorder("b")
            ),
            "incumbent",
        ),
    ]
    _, details = run_benchmark(methods, [tiny], cv=4, progress=False, return_details=True)
    test_folds = details["folds"]["tiny"]
    n = len(tiny[2])
    # Method a fits on exactly the complement of each test fold, and predicts on the fold.
    fits_a = [ids for tag, ids in SEEN["fit"] if tag == "a"]
    # run_benchmark asks predict_proba and predict (which calls predict_proba) per fold.
    preds_a = [ids for tag, ids in SEEN["predict"] if tag == "a"][::2]
    preds_b = [ids for tag, ids in SEEN["predict"] if tag == "b"][::2]
    assert len(fits_a) == len(test_folds) == 4
    for fold, te in enumerate(test_folds):
        np.testing.assert_array_equal(fits_a[fold], np.setdiff1d(np.arange(n), te))
        np.testing.assert_array_equal(preds_a[fold], np.sort(te))
        # The resampler sees the training fold only; predictions are on the raw test fold.
        np.testing.assert_array_equal(SEEN["resample"][fold], np.setdiff1d(np.arange(n), te))
        np.testing.assert_array_equal(preds_b[fold], np.sort(te))


def test_make_folds_rejects_classes_smaller_than_folds():
    y = np.array([0] * 20 + [1] * 2)
    with pytest.raises(ValueError, match="Class 1 has only 2 samples"):
        make_folds(y, 3, 0)


def test_score_predictions_rare_class_and_binary_positive():
    y_train = np.array([0] * 90 + [1] * 10)
    y_true = np.array([0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4]])
    s = score_predictions(y_true, y_pred, proba, np.array([0, 1]), y_train)
    assert s["rare_class_recall"] == pytest.approx(0.5)  # recall of the minority class 1
    assert s["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert s["roc_auc"] == pytest.approx(5 / 6)


def test_cli_quick_writes_files(tmp_path, capsys):
    out = tmp_path / "res"
    code = cli_main(
        [
            "benchmark",
            "--quick",
            "--methods",
            "logistic_regression_balanced",
            "cross_entropy",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    for name in [
        "scores.csv",
        "per_class_recall.csv",
        "results.md",
        "metrics.png",
        "per_class_recall.png",
    ]:
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "digits_lt" in printed and "bal. acc." in printed and "*" in printed
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"logistic_regression_balanced", "cross_entropy"}
    assert "| rank | method |" in (out / "results.md").read_text()


def test_cli_errors_are_actionable(tmp_path, capsys):
    assert benchmark_main(["--methods", "nope", "--no-progress"]) == 2
    assert "unknown method" in capsys.readouterr().err
    csv = tmp_path / "d.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "label": [0, 0, 1, 1]}).to_csv(csv, index=False)
    assert benchmark_main(["--data", str(csv), "--target", "missing", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'missing' is not in" in err and "label" in err
    assert (
        benchmark_main(["--data", str(csv), "--target", "label", "--cv", "3", "--no-progress"]) == 2
    )
    assert "fewer than the 3 folds" in capsys.readouterr().err
    assert benchmark_main(["--data", str(csv)]) == 2
    assert cli_main(["frobnicate"]) == 2


def test_load_csv_encodes_categoricals(tmp_path):
    csv = tmp_path / "d.csv"
    pd.DataFrame({"x": [1, 2, 3], "colour": ["red", "blue", "red"], "y": ["a", "b", None]}).to_csv(
        csv, index=False
    )
    X, y = load_csv(csv, "y")
    assert len(X) == len(y) == 2
    assert {"x", "colour_red", "colour_blue"} <= set(X.columns)
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nope.csv", "y")


def test_make_imbalanced_multilabel_profile():
    X, Y = make_imbalanced_multilabel(2000, 10, n_labels=8, imbalance_ratio=20, random_state=0)
    counts = Y.sum(axis=0)
    assert X.shape == (2000, 10) and Y.shape == (2000, 8)
    assert np.all(np.diff(counts) <= 0)
    assert counts[0] / counts[-1] == pytest.approx(20, rel=0.2)

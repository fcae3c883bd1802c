import numpy as np
import pandas as pd
import pytest
from imblearn import FunctionSampler
from imblearn.pipeline import make_pipeline
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from sk_imbalance.__main__ import main as cli_main
from sk_imbalance.benchmark import (
    DATASETS,
    METHODS,
    METRICS,
    SUITES,
    Method,
    check_target,
    compare_methods,
    critical_difference,
    dataset_means,
    make_folds,
    run_benchmark,
    score_predictions,
)
from sk_imbalance.benchmark._cli import main as benchmark_main
from sk_imbalance.datasets import list_imbalanced, load_csv, make_imbalanced_multilabel

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
    df = run_benchmark(["logistic_regression_balanced"], [tiny], cv=3, n_repeats=2, progress=False)
    assert list(df.columns) == ["dataset", "method", "family", "repeat", "fold", "metric", "value"]
    # 3 folds x 2 repeats, one row per metric each.
    assert len(df) == 1 * 1 * 3 * 2 * len(METRICS)
    assert set(df["metric"]) == set(METRICS)
    assert sorted(df["fold"].unique()) == list(range(6))
    assert df.groupby("repeat")["fold"].nunique().tolist() == [3, 3]
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
    _, details = run_benchmark(
        methods, [tiny], cv=3, n_repeats=2, progress=False, return_details=True
    )
    test_folds = details["folds"]["tiny"]
    n = len(tiny[2])
    # The folds are the seeded repeated stratified K-fold, every sample once per repeat.
    expected = [te for _, te in make_folds(tiny[2], 3, 0, n_repeats=2)]
    assert len(test_folds) == 6
    for got, want in zip(test_folds, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for r in range(2):
        np.testing.assert_array_equal(
            np.sort(np.concatenate(test_folds[3 * r : 3 * r + 3])), np.arange(n)
        )
    # Each method fits on exactly the complement of each test fold, and predicts on the fold.
    fits = {t: [ids for tag, ids in SEEN["fit"] if tag == t] for t in "ab"}
    # run_benchmark asks predict_proba and predict (which calls predict_proba) per fold.
    preds = {t: [ids for tag, ids in SEEN["predict"] if tag == t][::2] for t in "ab"}
    assert len(fits["a"]) == len(fits["b"]) == len(SEEN["resample"]) == 6
    for fold, te in enumerate(test_folds):
        train = np.setdiff1d(np.arange(n), te)
        np.testing.assert_array_equal(fits["a"][fold], train)
        for t in "ab":
            np.testing.assert_array_equal(preds[t][fold], np.sort(te))
        # The resampler sees the training fold only; the fit sees its resampled output
        # (training ids only, minorities duplicated); predictions are on the raw test fold.
        np.testing.assert_array_equal(SEEN["resample"][fold], train)
        assert np.isin(fits["b"][fold], train).all() and len(fits["b"][fold]) > len(train)


def test_make_folds_rejects_classes_smaller_than_folds():
    y = np.array([0] * 20 + [1] * 2)
    with pytest.raises(ValueError, match="Class 1 has only 2 samples"):
        make_folds(y, 3, 0)


def test_check_target_reduces_folds_or_refuses():
    assert check_target(np.array([0] * 20 + [1] * 5), 3) == (3, None)
    n_splits, note = check_target(np.array(["a"] * 20 + ["b"] * 2), 3)
    assert n_splits == 2 and "'b' has only 2 samples, fewer than the 3 folds: 2 folds" in note
    with pytest.raises(ValueError, match="single class"):
        check_target(np.zeros(10), 3)
    with pytest.raises(ValueError, match="class 1 has a single sample"):
        check_target(np.array([0] * 10 + [1]), 3)


def test_score_predictions_rare_class_and_binary_positive():
    y_train = np.array([0] * 90 + [1] * 10)
    y_true = np.array([0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4]])
    s = score_predictions(y_true, y_pred, proba, np.array([0, 1]), y_train)
    assert s["rare_class_recall"] == pytest.approx(0.5)  # recall of the minority class 1
    assert s["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert s["roc_auc"] == pytest.approx(5 / 6)


def _fixture_scores():
    """Fold scores of 2 of our methods and 3 incumbents on 7 data sets, 2 folds each."""
    rng = np.random.RandomState(0)
    families = {"o1": "ours", "o2": "ours", "i1": "incumbent", "i2": "incumbent"}
    families["i3"] = "incumbent"
    base = {"o1": 0.80, "o2": 0.74, "i1": 0.78, "i2": 0.70, "i3": 0.75}
    rows = []
    for d in range(7):
        for m, f in families.items():
            for fold in range(2):
                v = base[m] + 0.05 * rng.randn()
                rows.append((f"d{d}", m, f, 0, fold, "balanced_accuracy", v))
                rows.append((f"d{d}", m, f, 0, fold, "fit_time", 1 + rng.rand()))
    # An exact tie on d0 between o2 and i1 (both folds equal).
    df = pd.DataFrame(
        rows, columns=["dataset", "method", "family", "repeat", "fold", "metric", "value"]
    )
    for metric in ("balanced_accuracy", "fit_time"):
        src = (df["dataset"] == "d0") & (df["method"] == "i1") & (df["metric"] == metric)
        dst = (df["dataset"] == "d0") & (df["method"] == "o2") & (df["metric"] == metric)
        df.loc[dst, "value"] = df.loc[src, "value"].to_numpy()
    return df


def test_statistics_equal_scipy_on_a_fixed_fixture():
    scores = _fixture_scores()
    M = scores[scores["metric"] == "balanced_accuracy"].pivot_table(
        index="dataset", columns="method", values="value", aggfunc="mean"
    )[["o1", "o2", "i1", "i2", "i3"]]
    pd.testing.assert_frame_equal(dataset_means(scores, "balanced_accuracy"), M, check_names=False)
    c = compare_methods(scores, "balanced_accuracy", tie_tol=1e-3)
    ranks = np.array([stats.rankdata(-row) for row in M.to_numpy()]).mean(axis=0)
    np.testing.assert_allclose(c.table.loc[M.columns, "avg_rank"], ranks)
    assert list(c.table.index) == list(M.columns[np.argsort(ranks, kind="stable")])
    np.testing.assert_allclose(c.table.loc[M.columns, "mean"], M.mean())
    fried = stats.friedmanchisquare(*(M[m] for m in M.columns))
    assert c.friedman_statistic == pytest.approx(fried.statistic)
    assert c.friedman_p == pytest.approx(fried.pvalue)
    inc = [m for m in ("i1", "i2", "i3")]
    best = min(inc, key=lambda m: ranks[list(M.columns).index(m)])
    assert c.best_incumbent == best == "i1"
    for ours in ("o1", "o2"):
        diff = M[ours] - M[best]
        row = c.table.loc[ours]
        assert (row["wins"], row["ties"], row["losses"]) == (
            int((diff > 1e-3).sum()),
            int((diff.abs() <= 1e-3).sum()),
            int((diff < -1e-3).sum()),
        )
        assert row["p_value"] == pytest.approx(stats.wilcoxon(M[ours], M[best]).pvalue)
    assert c.table.loc["o2", "ties"] >= 1  # the exact tie on d0
    assert c.table.loc[inc, "wins"].isna().all()
    k, n = M.shape[1], M.shape[0]
    q = stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2)
    assert c.critical_difference == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n)))
    # Demsar (2006), section 3.2.2: q_0.05 = 2.569 for 4 methods; N = 14 gives CD = 1.25.
    assert critical_difference(4, 14) == pytest.approx(1.25, abs=0.005)
    # Fit time: lower is better.
    t = compare_methods(scores, "fit_time")
    T = dataset_means(scores, "fit_time")
    np.testing.assert_allclose(
        t.table.loc[T.columns, "avg_rank"],
        np.array([stats.rankdata(row) for row in T.to_numpy()]).mean(axis=0),
    )


def test_comparison_uses_complete_blocks_only():
    scores = _fixture_scores()
    drop = (scores["dataset"] == "d3") & (scores["method"] == "i2")
    c = compare_methods(scores[~drop], "balanced_accuracy")
    assert "d3" not in c.datasets and len(c.datasets) == 6
    assert c.excluded == {"d3": "no result for i2"}
    M = dataset_means(scores[~drop], "balanced_accuracy").drop(index="d3")
    fried = stats.friedmanchisquare(*(M[m] for m in M.columns))
    assert c.friedman_p == pytest.approx(fried.pvalue)
    # A method missing two data sets (each missing one method) is the one left out.
    drop |= (scores["dataset"] == "d5") & (scores["method"] == "i2")
    c = compare_methods(scores[~drop], "balanced_accuracy")
    assert c.excluded == {} and c.excluded_methods == {"i2": "no result on d3, d5"}
    assert len(c.datasets) == 7 and "i2" not in c.table.index


class _Failing(ClassifierMixin, BaseEstimator):
    """Fails to fit on data with 4 features (one data set of the test below)."""

    def fit(self, X, y):
        if X.shape[1] == 4:
            raise RuntimeError("boom on four features")
        self.lr_ = LogisticRegression().fit(X, y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(X)

    def predict(self, X):
        return self.lr_.predict(X)


def test_failed_and_skipped_methods_are_recorded_and_the_run_goes_on():
    X3, y3 = make_classification(
        150, 4, n_informative=3, n_redundant=0, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=0
    )
    X2, y2 = make_classification(150, 5, weights=[0.8, 0.2], random_state=0)
    methods = [
        Method("failing", lambda s: _Failing(), "ours"),
        Method("binary", lambda s: LogisticRegression(), "incumbent", binary_only=True),
        Method(
            "needs_pkg",
            lambda s: LogisticRegression(),
            "incumbent",
            requires=("no_such_module_xyz",),
            install_hint="pip install xyz",
        ),
        Method("lr", lambda s: LogisticRegression(), "incumbent"),
    ]
    seen = []
    with pytest.warns(UserWarning, match="failing failed on three"):
        scores, details = run_benchmark(
            methods,
            [("three", X3, y3), ("two", X2, y2)],
            cv=2,
            n_repeats=1,
            progress=False,
            return_details=True,
            on_rows=lambda table, frame: seen.append((table, frame)),
        )
    runs = details["runs"].set_index(["dataset", "method"])
    assert runs.loc[("three", "failing"), "status"] == "failed"
    assert "RuntimeError: boom on four features" in runs.loc[("three", "failing"), "message"]
    assert runs.loc[("two", "failing"), "status"] == "ok"
    assert runs.loc[("three", "binary"), "status"] == "skipped"
    assert runs.loc[("three", "binary"), "message"] == "binary data only (3 classes)"
    assert runs.loc[("two", "binary"), "status"] == "ok"
    assert (runs.xs("needs_pkg", level="method")["status"] == "skipped").all()
    assert (
        "no_such_module_xyz is not installed (pip install xyz)"
        in runs.loc[("two", "needs_pkg"), "message"]
    )
    done = set(zip(scores["dataset"], scores["method"], strict=True))
    assert done == {("three", "lr"), ("two", "failing"), ("two", "binary"), ("two", "lr")}
    # Every pair is reported once to on_rows (runs), scores only for the finished pairs.
    assert sum(len(f) for t, f in seen if t == "runs") == 8
    pd.testing.assert_frame_equal(
        pd.concat([f for t, f in seen if t == "scores"], ignore_index=True), scores
    )


@pytest.mark.exhaustive  # worker processes import torch: ~10 s on 2 cores (-m exhaustive)
def test_results_do_not_depend_on_worker_processes(tiny):
    X2, y2 = make_classification(120, 5, weights=[0.8, 0.2], random_state=1)
    data = [tiny, ("two", X2, y2)]
    methods = ["logistic_regression_balanced", "rusboost"]
    kw = dict(cv=3, n_repeats=2, progress=False)
    serial = run_benchmark(methods, data, n_jobs=1, **kw)
    parallel = run_benchmark(methods, data, n_jobs=2, **kw)
    quality = lambda df: df[df["metric"] != "fit_time"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(quality(serial), quality(parallel))


def test_registry_defaults_and_suites():
    assert SUITES["default"] == [*list_imbalanced().index, "digits_lt"]
    assert SUITES["toy"] == ["digits_lt", "wine_lt", "breast_cancer_lt"]
    assert set(SUITES["default"]) <= set(DATASETS)
    default = [m.name for m in METHODS.values() if m.default]
    for name in [
        "logit_adjusted",
        "focal",
        "class_weight_balanced",
        "hist_gradient_boosting",
        "hist_gradient_boosting_tuned",
        "easy_ensemble",
        "rusboost",
        "lightgbm",
    ]:
        assert name in default
    # Our methods are the package defaults: only random_state and device are set.
    from sk_imbalance import FocalClassifier, LogitAdjustedClassifier
    from sk_imbalance.benchmark import Settings

    s = Settings(random_state=3, device="cpu")
    for name, cls, extra in [
        ("logit_adjusted", LogitAdjustedClassifier, {}),
        ("focal", FocalClassifier, {}),
        (
            "class_weight_balanced",
            LogitAdjustedClassifier,
            {"adjustment": "none", "class_weight": "balanced"},
        ),
    ]:
        est = METHODS[name].factory(s)[-1]
        want = cls(random_state=3, device="cpu", **extra).get_params()
        assert est.get_params() == want
    assert METHODS["hist_gradient_boosting_tuned"].binary_only


def _csv(path, n=60, classes=(0, 1), weights=(0.75, 0.25), target="label", seed=0):
    X, y = make_classification(
        n,
        4,
        n_informative=3,
        n_redundant=0,
        n_classes=len(classes),
        weights=list(weights),
        random_state=seed,
    )
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    df["colour"] = np.where(X[:, 0] > 0, "red", "blue")  # a non-numeric column: one-hot
    df[target] = np.asarray(classes)[y]
    df.to_csv(path, index=False)
    return df


def test_cli_writes_report_files(tmp_path, capsys):
    out = tmp_path / "res"
    code = cli_main(
        [
            "benchmark",
            "--datasets",
            "glass0",
            "ecoli4",
            "--methods",
            "logistic_regression_balanced",
            "rusboost",
            "--repeats",
            "1",
            "--output",
            str(out),
            "--no-progress",
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    for name in [
        "scores.csv",
        "runs.csv",
        "per_class_recall.csv",
        "summary.csv",
        "tests.csv",
        "results.md",
        "metrics.png",
        "per_class_recall.png",
        "critical_difference.png",
    ]:
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "glass0" in printed and "bal. acc." in printed and "*" in printed
    assert "summary: bal. acc. across data sets" in printed and "avg. rank" in printed
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"logistic_regression_balanced", "rusboost"}
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["metric"]) == set(METRICS)
    assert summary.loc[summary["best_incumbent"], "metric"].nunique() == len(METRICS)
    md = (out / "results.md").read_text()
    assert "| rank | method |" in md and "## Across data sets" in md and "W/T/L" in md


def test_cli_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert benchmark_main(["--methods", "nope", "--no-progress"]) == 2
    assert "unknown method" in capsys.readouterr().err
    assert benchmark_main(["--datasets", "nope", "--no-progress"]) == 2
    assert "unknown data set" in capsys.readouterr().err
    csv = tmp_path / "d.csv"
    _csv(csv)
    assert benchmark_main(["--data", str(csv), "--target", "missing", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'missing' is not in" in err and "label" in err
    assert benchmark_main(["--data", str(csv)]) == 2
    assert "needs --target" in capsys.readouterr().err
    assert benchmark_main(["--data", str(tmp_path / "none.csv"), "--target", "label"]) == 2
    assert "not found" in capsys.readouterr().err
    assert benchmark_main(["--data", str(csv), "--suite", "toy", "--target", "label"]) == 2
    assert "alternatives" in capsys.readouterr().err
    one = tmp_path / "one.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [1, 1, 1]}).to_csv(one, index=False)
    assert benchmark_main(["--data", str(one), "--target", "label"]) == 2
    assert "single class" in capsys.readouterr().err
    single = tmp_path / "single.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "label": [0, 0, 0, 1]}).to_csv(single, index=False)
    assert benchmark_main(["--data", str(single), "--target", "label"]) == 2
    assert "class 1 has a single sample" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no csv here")
    assert benchmark_main(["--data-dir", str(empty), "--target", "label"]) == 2
    assert "no CSV file in" in capsys.readouterr().err
    (empty / "index.csv").write_text("dataset,n\na,1\n")
    assert benchmark_main(["--data-dir", str(empty), "--target", "label"]) == 2
    err = capsys.readouterr().err
    assert "no usable CSV file" in err and "'label' is not in" in err
    assert benchmark_main(["--data-dir", str(tmp_path / "nowhere"), "--target", "label"]) == 2
    assert benchmark_main(["--target", "label"]) == 2
    assert cli_main(["frobnicate"]) == 2


def test_cli_data_dir_skips_unusable_files_and_reduces_folds(tmp_path, capsys):
    folder = tmp_path / "suite"
    folder.mkdir()
    _csv(folder / "a.csv", n=80, seed=0)
    b = _csv(folder / "b.csv", n=60, seed=1)
    b["label"] = ["x"] * 40 + ["y"] * 18 + ["z"] * 2
    b.to_csv(folder / "b.csv", index=False)
    pd.DataFrame({"dataset": ["a"], "n": [80]}).to_csv(folder / "INDEX.csv", index=False)
    pd.DataFrame({"f": [1.0, 2.0], "label": [0, 0]}).to_csv(folder / "c.csv", index=False)
    out = tmp_path / "res"
    code = benchmark_main(
        [
            "--data-dir",
            str(folder),
            "--target",
            "label",
            "--methods",
            "logistic_regression_balanced",
            "--repeats",
            "1",
            "--output",
            str(out),
            "--no-progress",
            "--jobs",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "skipped INDEX.csv: Target column 'label' is not in" in captured.err
    assert "skipped c.csv: the target has a single class" in captured.err
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["dataset"]) == {"a", "b"} and (runs["status"] == "ok").all()
    scores = pd.read_csv(out / "scores.csv")
    # b's rarest class has 2 samples (3%): 2 folds instead of 3, with a note.
    assert scores.groupby("dataset")["fold"].nunique().to_dict() == {"a": 3, "b": 2}
    assert "b: class 'z' has only 2 samples, fewer than the 3 folds: 2 folds used" in captured.out


class _Interrupting(_Failing):
    def fit(self, X, y):
        raise KeyboardInterrupt


def test_cli_interrupted_run_keeps_rows_already_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(METHODS, "lr", Method("lr", lambda s: LogisticRegression(), "incumbent"))
    monkeypatch.setitem(METHODS, "ctrl_c", Method("ctrl_c", lambda s: _Interrupting(), "ours"))
    csv = tmp_path / "d.csv"
    _csv(csv)
    out = tmp_path / "res"
    code = benchmark_main(
        [
            "--data",
            str(csv),
            "--target",
            "label",
            "--methods",
            "lr",
            "ctrl_c",
            "--output",
            str(out),
            "--no-progress",
            "--jobs",
            "1",
        ]
    )
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"lr"} and scores["fold"].nunique() == 6
    assert len(scores) == 6 * len(METRICS)
    assert "**Interrupted**" in (out / "results.md").read_text()


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

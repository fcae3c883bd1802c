"""Ecosystem: metadata routing, imbalanced-learn pipelines, the pandas output API, docs.

Behaviour, not "it ran": weights routed through a pipeline or a search give the same
network as weights passed to the estimator directly; a resampler in front of an estimator
gives the same network as fitting it on the resampled data.
"""

import doctest
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from imblearn.metrics import classification_report_imbalanced, geometric_mean_score
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import balanced_accuracy_score, f1_score, get_scorer, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import (
    FocalClassifier,
    LogitAdjustedClassifier,
    LogitAdjustedClassifierCV,
    SiameseAMSoftmaxEncoder,
    ZLPRMultiLabelClassifier,
)

from .conftest import BRIEF

# float64 and one full batch: zero weights equal dropping to ~1e-12 (see ``dtype``).
EXACT = dict(BRIEF, dtype="float64", batch_size=1000)


def _weighted_ba():
    # Scorers' requests can only be set with routing enabled.
    return get_scorer("balanced_accuracy").set_score_request(sample_weight=True)


# name -> (factory, data kind, output used to compare fits); factories are called with
# routing enabled, so that they may set requests on scorers.
ESTIMATORS = {
    "logit_adjusted": (lambda: LogitAdjustedClassifier(**EXACT), "single", "decision_function"),
    "focal": (lambda: FocalClassifier(**EXACT), "single", "decision_function"),
    "logit_adjusted_cv": (
        lambda: LogitAdjustedClassifierCV(cv=2, taus=[0.5, 1.0], scoring=_weighted_ba(), **EXACT),
        "single",
        "decision_function",
    ),
    "zlpr": (lambda: ZLPRMultiLabelClassifier(**EXACT), "multilabel", "decision_function"),
    "siamese": (lambda: SiameseAMSoftmaxEncoder(**EXACT), "groups", "transform"),
}


def _data(kind, n=180, seed=0):
    if kind == "multilabel":
        X, y = make_multilabel_classification(
            n, 8, n_classes=4, n_labels=2, allow_unlabeled=False, random_state=seed
        )
    else:
        X, y = make_classification(
            n, 8, n_informative=5, n_classes=3, weights=[0.7, 0.2, 0.1],
            n_clusters_per_class=1, random_state=seed,
        )  # fmt: skip
    X = X * np.array([1, 10, 0.1, 1, 5, 1, 1, 2]) + 3  # scaling matters
    w = np.random.default_rng(seed).uniform(0.2, 3.0, n)
    return X, y, w


def _out(est, method, X):
    return getattr(est, method)(X)


# ----------------------------------------------------------------- metadata routing
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_routed_pipeline_passes_sample_weight_to_the_estimator(name):
    make, kind, method = ESTIMATORS[name]
    X, y, w = _data(kind)
    Xs = StandardScaler().fit_transform(X)
    with config_context(enable_metadata_routing=True):
        est = make()
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("est", clone(est).set_fit_request(sample_weight=True)),
            ]
        ).fit(X, y, sample_weight=w)
        direct = clone(est).fit(Xs, y, sample_weight=w)
        unweighted = clone(est).fit(Xs, y)
    routed = _out(pipe[-1], method, Xs)
    np.testing.assert_array_equal(routed, _out(direct, method, Xs))
    assert not np.allclose(routed, _out(unweighted, method, Xs), atol=1e-3)


@pytest.mark.parametrize("name", ["logit_adjusted", "focal", "zlpr", "siamese"])
def test_routed_zero_weights_equal_dropping_the_samples(name):
    make, kind, method = ESTIMATORS[name]
    X, y, _ = _data(kind)
    w = np.ones(len(X))
    w[::4] = 0.0
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=True)),
                ("est", make().set_fit_request(sample_weight=True)),
            ]
        )
        weighted = clone(pipe).fit(X, y, sample_weight=w)
        dropped = clone(pipe).fit(X[w > 0], y[w > 0])
    a, b = _out(weighted, method, X), _out(dropped, method, X)
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_routed_grid_search_fits_and_scores_with_the_fold_weights(name):
    make, kind, method = ESTIMATORS[name]
    X, y, w = _data(kind)
    if kind == "single":
        scoring, metric = _weighted_ba, balanced_accuracy_score
    elif kind == "multilabel":
        scoring = lambda: get_scorer("f1_macro").set_score_request(sample_weight=True)  # noqa: E731
        metric = partial(f1_score, average="macro")
    else:  # scoring=None: the encoder's own (weighted) retrieval recall@1
        scoring, metric = (lambda: None), None
    cv = KFold(2, shuffle=True, random_state=0)
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("est", make().set_fit_request(sample_weight=True)),
            ]
        )
        if metric is None:
            pipe[-1].set_score_request(sample_weight=True)
        search = GridSearchCV(pipe, {"est__learning_rate_init": [1e-2]}, scoring=scoring(), cv=cv)
        search.fit(X, y, sample_weight=w)
        for i, (tr, te) in enumerate(cv.split(X, y)):
            fold = clone(pipe).fit(X[tr], y[tr], sample_weight=w[tr])
            if metric is None:
                expected = fold.score(X[te], y[te], sample_weight=w[te])
            else:
                expected = metric(y[te], fold.predict(X[te]), sample_weight=w[te])
            assert search.cv_results_[f"split{i}_test_score"][0] == pytest.approx(
                expected, abs=1e-12
            )
        refit = clone(pipe).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(_out(search.best_estimator_, method, X), _out(refit, method, X))


def test_routed_estimator_score_receives_sample_weight():
    X, y, w = _data("single")
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    with config_context(enable_metadata_routing=True):
        est = LogitAdjustedClassifier(**BRIEF).set_fit_request(sample_weight=False)
        est.set_score_request(sample_weight=True)  # scoring=None: the estimator's score
        search = GridSearchCV(est, {"tau": [1.0]}, cv=cv).fit(X, y, sample_weight=w)
    for i, (tr, te) in enumerate(cv.split(X, y)):
        fold = clone(est).fit(X[tr], y[tr])  # fit did not request the weights
        expected = np.average(fold.predict(X[te]) == y[te], weights=w[te])
        assert search.cv_results_[f"split{i}_test_score"][0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_unrequested_sample_weight_raises_and_requests_are_reported(name):
    factory, kind, _ = ESTIMATORS[name]
    X, y, w = _data(kind, n=40)

    def make():  # the CV estimator with its default scorer, which requests nothing
        est = factory()
        return est.set_params(scoring="balanced_accuracy") if "cv" in name else est

    with config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            Pipeline([("est", make())]).fit(X, y, sample_weight=w)
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            GridSearchCV(make(), {"max_iter": [5]}, cv=2).fit(X, y, sample_weight=w)
        assert make().get_metadata_routing().consumes("fit", ["sample_weight"]) == set()
        requested = make().set_fit_request(sample_weight=True).get_metadata_routing()
        assert requested.consumes("fit", ["sample_weight"]) == {"sample_weight"}
        ignored = make().set_fit_request(sample_weight=False).get_metadata_routing()
        assert ignored.consumes("fit", ["sample_weight"]) == set()


def _cv_scores_by_hand(X, y, splits, w_fit, w_score, taus):
    scores = np.empty((len(splits), len(taus)))
    for i, (tr, te) in enumerate(splits):
        est = LogitAdjustedClassifier(adjustment="post_hoc", **BRIEF).fit(
            X[tr], y[tr], sample_weight=w_fit[tr]
        )
        for j, tau in enumerate(taus):
            pred = est.set_params(tau=tau).predict(X[te])
            sw = None if w_score is None else w_score[te]
            scores[i, j] = balanced_accuracy_score(y[te], pred, sample_weight=sw)
    return scores


def test_cv_estimator_routes_weights_to_its_scorer_and_groups_to_its_splitter():
    X, y, w = _data("single", n=160)
    groups = np.arange(len(X)) % 8
    taus = [0.0, 1.0]
    kw = dict(BRIEF, taus=taus)
    cv = StratifiedKFold(2)
    splits = list(cv.split(X, y))

    # Without routing the weights fit the folds and score the test folds.
    plain = LogitAdjustedClassifierCV(cv=cv, **kw).fit(X, y, sample_weight=w)
    expected = _cv_scores_by_hand(X, y, splits, w, w, taus)
    np.testing.assert_allclose(plain.cv_results_["split_test_scores"], expected, atol=1e-12)
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        LogitAdjustedClassifierCV(cv=GroupKFold(2), **kw).fit(X, y, groups=groups)

    with config_context(enable_metadata_routing=True):
        # The scorer's request decides whether it gets the weights.
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            LogitAdjustedClassifierCV(cv=cv, **kw).fit(X, y, sample_weight=w)
        requested = LogitAdjustedClassifierCV(cv=cv, scoring=_weighted_ba(), **kw)
        requested.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(requested.cv_results_["split_test_scores"], expected, atol=1e-12)
        unweighted = get_scorer("balanced_accuracy").set_score_request(sample_weight=False)
        ignored = LogitAdjustedClassifierCV(cv=cv, scoring=unweighted, **kw)
        ignored.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(
            ignored.cv_results_["split_test_scores"],
            _cv_scores_by_hand(X, y, splits, w, None, taus),
            atol=1e-12,
        )
        # groups reach a group splitter
        grouped = LogitAdjustedClassifierCV(cv=GroupKFold(2), **kw).fit(X, y, groups=groups)
        group_splits = list(GroupKFold(2).split(X, y, groups))
        np.testing.assert_allclose(
            grouped.cv_results_["split_test_scores"],
            _cv_scores_by_hand(X, y, group_splits, np.ones(len(X)), None, taus),
            atol=1e-12,
        )
        # what the routers report: the scorer's and the splitter's requests
        both = ["sample_weight", "groups"]
        assert requested.get_metadata_routing().consumes("fit", both) == {"sample_weight"}
        assert ignored.get_metadata_routing().consumes("fit", both) == set()
        assert grouped.get_metadata_routing().consumes("fit", both) == {"groups"}


def test_encoder_score_is_the_weighted_mean_of_the_queries_hits():
    X, y, w = _data("groups", n=90)
    w[::3] = 0.0
    enc = SiameseAMSoftmaxEncoder(**BRIEF).fit(X, y)
    Z = enc.transform(X)
    sim = Z @ Z.T
    np.fill_diagonal(sim, -np.inf)
    hit = y[np.argmax(sim, axis=1)] == y  # every group has many members here
    assert enc.score(X, y, sample_weight=w) == pytest.approx(np.average(hit, weights=w))
    assert enc.score(X, y) == pytest.approx(hit.mean())
    with config_context(enable_metadata_routing=True):  # a pipeline ending in it scores
        pipe = Pipeline([("enc", enc)])
        assert pipe.score(X, y) == pytest.approx(hit.mean())


# ----------------------------------------------------------------- imbalanced-learn
SAMPLERS = {
    "over": lambda: RandomOverSampler(random_state=0),
    "smote": lambda: SMOTE(k_neighbors=3, random_state=0),
    "under": lambda: RandomUnderSampler(random_state=0),
}
CLASSIFIERS = {
    "logit_adjusted": lambda: LogitAdjustedClassifier(**BRIEF),
    "focal": lambda: FocalClassifier(**BRIEF),
    "logit_adjusted_cv": lambda: LogitAdjustedClassifierCV(cv=2, taus=[0.5, 1.0], **BRIEF),
}


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("clf", list(CLASSIFIERS))
def test_estimator_behind_an_imblearn_resampler_is_trained_on_the_resampled_data(sampler, clf):
    X, y, _ = _data("single", n=150)
    pipe = make_imb_pipeline(StandardScaler(), SAMPLERS[sampler](), CLASSIFIERS[clf]())
    pipe.fit(X, y)
    fitted = pipe[-1]
    # The network saw balanced classes: its training prior is uniform ...
    np.testing.assert_allclose(fitted.class_prior_, np.full(3, 1 / 3))
    alone = CLASSIFIERS[clf]().fit(X, y)
    assert alone.class_prior_.max() > 0.6  # ... where the data is 70 / 20 / 10.
    # ... and it is the network fitted on the resampler's output.
    Xs = StandardScaler().fit_transform(X)
    Xr, yr = SAMPLERS[sampler]().fit_resample(Xs, y)
    direct = CLASSIFIERS[clf]().fit(Xr, yr)
    np.testing.assert_array_equal(pipe.decision_function(X), direct.decision_function(Xs))
    # Prediction goes through the scaler only (resamplers act in fit).
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(pipe.predict(X), pipe.classes_[np.argmax(proba, axis=1)])


def test_grid_search_over_an_imblearn_pipeline_with_gmean():
    X, y, _ = _data("single", n=180)
    pipe = make_imb_pipeline(
        StandardScaler(), RandomUnderSampler(random_state=0), LogitAdjustedClassifier(**BRIEF)
    )
    grid = {"randomundersampler__sampling_strategy": ["auto", "majority"]}
    scorer = make_scorer(geometric_mean_score)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, scoring=scorer, cv=cv).fit(X, y)
    for k, params in enumerate(search.cv_results_["params"]):
        for i, (tr, te) in enumerate(cv.split(X, y)):
            fold = clone(pipe).set_params(**params).fit(X[tr], y[tr])
            expected = geometric_mean_score(y[te], fold.predict(X[te]))
            assert search.cv_results_[f"split{i}_test_score"][k] == pytest.approx(expected)
    # "majority" undersamples only the largest class: the other two keep their counts.
    majority = clone(pipe).set_params(randomundersampler__sampling_strategy="majority")
    prior = majority.fit(X, y)[-1].class_prior_
    counts = np.bincount(y)
    np.testing.assert_allclose(
        prior, np.array([counts[2], counts[1], counts[2]]) / (2 * counts[2] + counts[1])
    )
    report = classification_report_imbalanced(y, search.predict(X))
    assert "geo" in report and "iba" in report


def test_encoder_behind_an_imblearn_resampler():
    X, y, _ = _data("groups", n=150)
    enc = SiameseAMSoftmaxEncoder(**BRIEF)
    knn = KNeighborsClassifier(n_neighbors=3, metric="cosine")
    pipe = make_imb_pipeline(StandardScaler(), RandomOverSampler(random_state=0), enc, knn)
    pipe.fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    Xr, yr = RandomOverSampler(random_state=0).fit_resample(Xs, y)
    direct = clone(enc).fit(Xr, yr)
    np.testing.assert_array_equal(pipe[-2].transform(Xs), direct.transform(Xs))
    assert pipe[-1].n_samples_fit_ == 3 * np.bincount(y).max()  # knn saw it too
    assert pipe.predict(X).shape == (len(X),)


# ----------------------------------------------------------------- output API
def test_encoder_set_output_pandas_keeps_index_and_names():
    X, y, _ = _data("groups", n=120)
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols, index=pd.RangeIndex(1000, 1000 + len(X), name="id"))
    enc = SiameseAMSoftmaxEncoder(embedding_dim=4, **BRIEF).set_output(transform="pandas")
    Z = enc.fit_transform(df, y)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == list(enc.get_feature_names_out())
    assert list(Z.columns) == [f"siameseamsoftmaxencoder{i}" for i in range(4)]
    assert Z.index.equals(df.index)
    np.testing.assert_array_equal(enc.transform(df).to_numpy(), Z.to_numpy())
    np.testing.assert_array_equal(
        Z.to_numpy(), clone(enc).set_output(transform="default").fit(df, y).transform(df)
    )
    np.testing.assert_array_equal(enc.feature_names_in_, cols)
    with pytest.raises(ValueError, match="input_features"):
        enc.get_feature_names_out(["a"] * 8)


def test_encoder_output_in_column_transformer_and_pipeline():
    X, y, _ = _data("groups", n=120)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df.index = df.index * 2 + 7
    df["source"] = np.where(np.arange(len(df)) % 2, "a", "b")
    numeric = [c for c in df.columns if c.startswith("f")]
    ct = ColumnTransformer(
        [
            (
                "emb",
                Pipeline(
                    [
                        ("scale", StandardScaler()),
                        ("enc", SiameseAMSoftmaxEncoder(embedding_dim=3, **BRIEF)),
                    ]
                ),
                numeric,
            ),
            ("keep", "passthrough", ["source"]),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(df, y)
    expected = [f"emb__siameseamsoftmaxencoder{i}" for i in range(3)] + ["keep__source"]
    assert list(out.columns) == expected == list(ct.get_feature_names_out())
    assert out.index.equals(df.index)
    assert out["keep__source"].tolist() == df["source"].tolist()
    emb = ct.named_transformers_["emb"]
    np.testing.assert_array_equal(out.iloc[:, :3].to_numpy(), emb.transform(df[numeric]).to_numpy())


# ----------------------------------------------------------------- docs
def test_imbalanced_learn_user_guide_examples_run():
    page = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "imbalanced_learn.rst"
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0

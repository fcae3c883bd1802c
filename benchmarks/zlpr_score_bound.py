"""How ZLPRMultiLabelClassifier's ``score_bound`` changes micro-, macro- and samples-F1,
against scikit-learn's ``MLPClassifier((100,), max_iter=200)``: the measurement behind
the default ``score_bound="auto"`` (2 for ``loss="zlpr"``; see the ZLPR user guide).

Data sets (as in ``benchmarks/zlpr_vs_mlp.py``: labels with fewer than 10 positives
dropped, 70/30 split with the data seed, standardised on the training part):

- ``issue-other-seeds``: the data of ``benchmarks/zlpr_vs_mlp.py``,
  ``make_multilabel_classification(3000, 40, n_classes=30, n_labels=3, length=60)``,
  with data seeds 2-5 (not the seeds the issue names), model seeds 0-2;
- ``50-labels``: ``make_multilabel_classification(3000, 100, n_classes=50, n_labels=2,
  length=100)``, data seeds 0-1, model seeds 0-1;
- ``10000x100``: ``make_multilabel_classification(10000, 100, n_classes=100,
  n_labels=5, length=200)``, data seed 0, model seeds 0-1;
- ``long-tail``: ``sk_imbalance.datasets.make_imbalanced_multilabel(3000, 40,
  n_labels=30, imbalance_ratio=50)``, data seeds 0-2, model seeds 0-1.

Every ZLPR model is the default estimator but for ``score_bound`` (and ``loss``);
figures are means over data and model seeds. Fits run in parallel (``--n-jobs``), each
on one torch thread.

Run from the repository root::

    python benchmarks/zlpr_score_bound.py [--bounds 10 2] [--loss zlpr] [--n-jobs 2]
        [--datasets issue-other-seeds 50-labels 10000x100 long-tail]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier
from tqdm import tqdm
from zlpr_vs_mlp import MLP, issue_data, prepare

from sk_imbalance import ZLPRMultiLabelClassifier
from sk_imbalance.datasets import make_imbalanced_multilabel

# name: (generator of (X, Y) from a data seed, data seeds, model seeds)
DATASETS = {
    "issue-other-seeds": (
        issue_data,
        (2, 3, 4, 5),
        (0, 1, 2),
    ),
    "50-labels": (
        lambda s: make_multilabel_classification(
            3000, 100, n_classes=50, n_labels=2, length=100, allow_unlabeled=False, random_state=s
        ),
        (0, 1),
        (0, 1),
    ),
    "10000x100": (
        lambda s: make_multilabel_classification(
            10000, 100, n_classes=100, n_labels=5, length=200, allow_unlabeled=False, random_state=s
        ),
        (0,),
        (0, 1),
    ),
    "long-tail": (
        lambda s: make_imbalanced_multilabel(
            3000, 40, n_labels=30, imbalance_ratio=50, random_state=s
        ),
        (0, 1, 2),
        (0, 1),
    ),
}


def split(dataset, seed):
    """The data set's train/test split for one data seed, as the module docstring says."""
    return prepare(*DATASETS[dataset][0](seed), seed)


def fit_and_score(dataset, seed, model_seed, model_name, loss, bound):
    """Micro-, macro- and samples-F1 on the test split of one fit."""
    import torch

    torch.set_num_threads(1)
    X_tr, X_te, Y_tr, Y_te = split(dataset, seed)
    if model_name == MLP:
        model = MLPClassifier((100,), max_iter=200, random_state=model_seed)
    else:
        model = ZLPRMultiLabelClassifier(loss=loss, score_bound=bound, random_state=model_seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pred = model.fit(X_tr, Y_tr).predict(X_te)
    return [f1_score(Y_te, pred, average=a, zero_division=0) for a in ("micro", "macro", "samples")]


def run(datasets, bounds, loss="zlpr", n_jobs=2):
    """Return ``{(dataset, model name): mean [micro, macro, samples] F1}``."""
    names = {b: f"{loss}, score_bound={b}" for b in bounds}
    jobs = [
        (dataset, seed, model_seed, name, loss, bound)
        for dataset in datasets
        for seed in DATASETS[dataset][1]
        for model_seed in DATASETS[dataset][2]
        for name, bound in [*((names[b], b) for b in bounds), (MLP, None)]
    ]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(fit_and_score)(*job) for job in jobs
    )
    scores = {}
    for job, f1 in zip(jobs, tqdm(results, total=len(jobs), desc="fits"), strict=True):
        scores.setdefault((job[0], job[3]), []).append(f1)
    return {key: np.mean(values, axis=0) for key, values in scores.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--bounds", nargs="+", default=["10", "2"], help="score_bound values ('none': no bound)"
    )
    parser.add_argument("--loss", default="zlpr", choices=["zlpr", "bce", "focal"])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    bounds = [None if b.lower() == "none" else float(b) for b in args.bounds]
    means = run(args.datasets, bounds, args.loss, args.n_jobs)
    print(f"{'data set':<18} {'model':<36} {'micro-F1':>8} {'macro-F1':>8} {'samp-F1':>8}")
    for (dataset, name), (micro, macro, samples) in means.items():
        print(f"{dataset:<18} {name:<36} {micro:8.4f} {macro:8.4f} {samples:8.4f}")
    return means


if __name__ == "__main__":
    main()

"""FocalClassifier's focusing parameter on the development suite, with the main job's protocol.

For each ``gamma`` in the list, ``FocalClassifier(gamma=gamma)`` (other parameters
default, behind a StandardScaler) and the same network with cross-entropy and balanced
class weights (``gamma=0``, the main job's ``class_weight_balanced`` by another route)
run over every CSV of a folder with the main job's folds (3-fold x 2 repeats, seed 0);
prints mean and average rank of balanced accuracy, G-mean and ROC AUC.

    python benchmarks/focal_gamma_dev_suite.py DIR [--gammas 0.5 1 2] [--jobs 2]
"""

import argparse
from functools import partial

from imblearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance.benchmark import Method, compare_methods, run_benchmark
from sk_imbalance.datasets import load_csv


def _focal(gamma, settings):
    from sk_imbalance import FocalClassifier

    return make_pipeline(StandardScaler(), FocalClassifier(gamma=gamma, **settings.network()))


def _balanced(settings):
    net = LogitAdjustedClassifier(adjustment="none", class_weight="balanced", **settings.network())
    return make_pipeline(StandardScaler(), net)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    import pathlib

    data = []
    for path in sorted(pathlib.Path(args.folder).glob("*.csv")):
        try:
            X, y = load_csv(path, "target")
        except ValueError:
            continue
        data.append((path.stem, X, y))
    methods = [
        Method(f"focal_gamma_{g:g}", partial(_focal, g), "ours", f"FocalClassifier(gamma={g})")
        for g in args.gammas
    ]
    methods.append(Method("class_weight_balanced", _balanced, "incumbent", "CE, balanced"))
    scores = run_benchmark(methods, data, cv=3, n_repeats=2, n_jobs=args.jobs, progress=False)
    for metric in ("balanced_accuracy", "g_mean", "roc_auc"):
        comparison = compare_methods(scores, metric)
        print(f"\n{metric}")
        print(comparison.table.to_string())


if __name__ == "__main__":
    main()

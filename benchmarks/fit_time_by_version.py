"""Fit time of ``LogitAdjustedClassifier`` with its defaults on development-suite CSVs.

Two thirds of each data set (a seeded permutation), standardised, one torch thread; prints
the seconds of one fit per data set. Run it once per code version, interleaved, to take
the ratio between versions on one machine (run from outside the repository so that the
working directory does not shadow ``PYTHONPATH``)::

    PYTHONPATH=/path/to/old python benchmarks/fit_time_by_version.py DIR glass0,ecoli4,yeast3
    PYTHONPATH=/path/to/new python benchmarks/fit_time_by_version.py DIR glass0,ecoli4,yeast3

An optional third argument is a dict of estimator parameters, e.g. "{'dtype': 'float32'}".
"""

import ast
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from sk_imbalance import LogitAdjustedClassifier


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder, names = Path(argv[0]), argv[1].split(",")
    params = ast.literal_eval(argv[2]) if len(argv) > 2 else {}
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    seconds = []
    for name in names:
        frame = pd.read_csv(folder / f"{name}.csv")
        y = frame.pop("target").to_numpy()
        X = StandardScaler().fit_transform(pd.get_dummies(frame).astype(float).to_numpy())
        idx = np.random.default_rng(0).permutation(len(y))[: int(len(y) * 2 / 3)]
        start = time.perf_counter()
        LogitAdjustedClassifier(random_state=0, **params).fit(X[idx], y[idx])
        seconds.append(time.perf_counter() - start)
    print(" ".join(f"{name}={s:.3f}" for name, s in zip(names, seconds, strict=True)))


if __name__ == "__main__":
    main()

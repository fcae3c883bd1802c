"""Single-row ``predict`` latency of ``LogitAdjustedClassifier`` (median of many calls).

Run it once per code version in fresh processes, interleaved, to compare versions on one
machine (``PYTHONPATH`` selects the checkout; run from outside the repository so that the
working directory does not shadow it)::

    PYTHONPATH=/path/to/old python benchmarks/single_row_latency.py
    PYTHONPATH=/path/to/new python benchmarks/single_row_latency.py "{'n_members': 1}"

The optional argument is a dict of estimator parameters. Prints microseconds.
"""

import ast
import statistics
import sys
import time

import numpy as np
import torch

from sk_imbalance import LogitAdjustedClassifier


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    params = ast.literal_eval(argv[0]) if argv else {}
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 20)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=2000) > 1.5).astype(int)
    clf = LogitAdjustedClassifier(random_state=0, max_iter=5, **params).fit(X, y)
    x1 = X[:1]
    for _ in range(50):  # warm-up
        clf.predict(x1)
    times = []
    for _ in range(500):
        start = time.perf_counter()
        clf.predict(x1)
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times) * 1e6:.0f}")


if __name__ == "__main__":
    main()

"""Write the "previous release" pickle fixture used by tests/test_reliability.py.

The committed files were written by sk_imbalance 0.1.0.dev0 at commit 02771a2 (the last
release before pickles recorded the sk_imbalance version), with torch 2.13.0 and
skorch 1.4.0, by running, in a checkout of that commit:

    python tests/data/make_previous_release_pickle.py

Do not regenerate them with a newer version: their point is that a model pickled by an
older release keeps loading and predicting the same.
"""

import json
import pickle
from pathlib import Path

import numpy as np
import skorch
import torch

import sk_imbalance
from sk_imbalance import LogitAdjustedClassifier

HERE = Path(__file__).parent
NAME = "logit_adjusted_previous_release"


def main():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 4)) * 2
    y_idx = rng.integers(0, 3, 60)
    X = centres[y_idx] + rng.standard_normal((60, 4))
    y = np.array(["cat", "dog", "owl"])[y_idx]
    clf = LogitAdjustedClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)

    X_test = rng.standard_normal((25, 4)) * 2
    (HERE / f"{NAME}.pkl").write_bytes(pickle.dumps(clf))
    np.savez(
        HERE / f"{NAME}.npz",
        X=X_test,
        predict=clf.predict(X_test).astype(str),
        predict_proba=clf.predict_proba(X_test),
    )
    meta = {
        "sk_imbalance": sk_imbalance.__version__,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "classes": clf.classes_.tolist(),
    }
    (HERE / f"{NAME}.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(meta, (HERE / f"{NAME}.pkl").stat().st_size, "bytes")


if __name__ == "__main__":  # not on import (pytest --doctest-modules imports it)
    main()

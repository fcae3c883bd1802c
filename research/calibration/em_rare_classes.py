"""EM on long-tailed digits IR100: which cross-fitted calibration variant fixes the prior estimate.

Run from outside the repository: `python research/calibration/em_rare_classes.py 0 1` (seeds).
The variants `_m1` / `_m3` leave out of the calibration fit the held-out rows whose
class has fewer than 1 / 3 rows in the fold network's training rows (a monkeypatch of
the cross-fitting as it was before that rule shipped; with the rule shipped, the plain
variants already apply it and the `_m1` one is no longer what it was).
"""
import sys, time, warnings
import numpy as np, torch
from sklearn.metrics import log_loss
sys.path.insert(0, __file__.rsplit("/research/", 1)[0] + "/benchmarks")
from calibration_prior_shift import deployment_sample
from sk_imbalance import LogitAdjustedClassifier
from sk_imbalance import _classifier
from sk_imbalance.datasets import load_long_tailed
torch.set_num_threads(1)
warnings.filterwarnings("ignore")
orig = _classifier.__dict__  # noqa
Base = [c for c in LogitAdjustedClassifier.__mro__ if "_cross_fitted_logits" in c.__dict__][0]
orig_cf = Base._cross_fitted_logits
MIN = {"v": 0}
def patched(self, X, targets, sample_weight, attrs):
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils import check_random_state
    logits, y, w = orig_cf(self, X, targets, sample_weight, attrs)
    if MIN["v"] <= 0:
        return logits, y, w
    # the same folds as orig_cf: rows whose class the fold network saw fewer than m times
    seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    w = np.array(w, dtype=float, copy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train, test in folds.split(X, targets.y):
            counts = np.bincount(targets.y[train], minlength=logits.shape[1])
            w[test[counts[targets.y[test]] < MIN["v"]]] = 0.0
    return logits, y, w
Base._cross_fitted_logits = patched
variants = [("none", None, 0), ("temp", "temperature", 0), ("bcts", "bcts", 0),
            ("temp_m1", "temperature", 1), ("bcts_m1", "bcts", 1), ("bcts_m3", "bcts", 3), ("temp_m3", "temperature", 3)]
seeds = [int(s) for s in sys.argv[1:]] or [0, 1]
res = {v[0]: [] for v in variants}
t0 = time.perf_counter()
for seed in seeds:
    d = load_long_tailed("digits", imbalance_ratio=100, random_state=seed)
    X_dep, y_dep, prior = deployment_sample(d, seed, 1000)
    for name, cal, m in variants:
        MIN["v"] = m
        clf = LogitAdjustedClassifier(calibration=cal, random_state=seed).fit(d.X_train, d.y_train)
        clf.fit_prior_shift(X_dep)
        l1 = float(np.abs(clf.deployment_prior_ - prior).sum())
        ll = log_loss(y_dep, clf.predict_proba(X_dep), labels=clf.classes_)
        c = clf.calibration_
        extra = "" if c is None else f"T {c.temperature:.2f} b {np.round(c.bias, 1)}"
        res[name].append((l1, ll))
        print(f"seed {seed} {name:8s} L1 {l1:.3f} ll {ll:.3f} {extra}  [{time.perf_counter()-t0:.0f}s]", flush=True)
print(np.bincount(d.y_train))
for k, v in res.items():
    a = np.array(v); print(f"{k:8s} mean L1 {a[:,0].mean():.3f}  mean ll {a[:,1].mean():.3f}")

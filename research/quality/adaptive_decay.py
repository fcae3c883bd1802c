"""Per-data-set weight decay chosen on out-of-fold members (a prototype, research only).

The heldout evidence and the member-decay probes (FINDINGS.md, "The members' weight
decays, once more") say the best regularisation differs between data sets: strong
decays (3, 10, 30, 100) win a few noisy sets by 0.03-0.10 balanced accuracy and lose
many clean ones by 0.01-0.02; picking the better of the two per set *with the test
folds* (an oracle) would give BA 0.8933 and Wilcoxon p = 0.0095 against the forest.
This prototype asks how much of that a choice made on the *training* data keeps, at
today's cost (8 members, one packed module, 600 steps).

Layout of the 8 members of ``LogitAdjustedClassifier()`` (the last 4 see the
piecewise-linear encoding):

    member  0    1    2    3  |  4    5    6    7
    group   L    L    H    H  |  L    L    H    H
    fold    0    1    0    1  |  2    3    2    3
    decay   0.1  1    3    30 |  0.3  3    10   100

Each training row is in one of 4 stratified folds; member ``m`` never trains on the
rows of its fold (its loss on them is masked to 0). So every row has exactly one
out-of-fold member in each group (a raw one for folds 0-1, an encoded one for 2-3),
and the groups are compared on the same rows with members of the same kind. After
the fit, each group is scored on the out-of-fold balanced log-probabilities of the
training rows; prediction averages the members of the chosen group (``use="chosen"``)
or all 8 (``use="all"``). The fold ids travel to the criterion inside the targets
(``y + K * fold``), a research shortcut; the package itself is not changed.

    python research/quality/main_job_probe.py ad_all ad_chosen_ll ad_chosen_ba ad_low
"""

from __future__ import annotations

import numpy as np
import torch

from sk_imbalance import LogitAdjustedClassifier

GROUP = np.array([0, 0, 1, 1, 0, 0, 1, 1])  # 0 = L (low decays), 1 = H (high decays)
FOLD = np.array([0, 1, 0, 1, 2, 3, 2, 3])
DECAYS = (0.1, 1.0, 3.0, 30.0, 0.3, 3.0, 10.0, 100.0)
N_FOLDS = 4


class _MaskedMembers(torch.nn.Module):
    """Inner criterion of ``MemberMean``: a member's loss on its own fold's rows is 0.

    ``MemberMean`` flattens ``(batch, k, K)`` to ``(batch * k, K)`` with the members of
    one row contiguous, so flat row ``r`` is member ``r % k``.
    """

    def __init__(self, criterion, n_classes):
        super().__init__()
        self.criterion = criterion
        self.n_classes = n_classes
        self.register_buffer("member_fold", torch.as_tensor(FOLD))

    def forward(self, logits, target):
        k = len(FOLD)
        y, fold = target % self.n_classes, target // self.n_classes
        member = torch.arange(len(target), device=target.device) % k
        keep = (self.member_fold.to(target.device)[member] != fold).to(logits.dtype)
        return self.criterion(logits, y) * keep


def _stratified_folds(y, seed):
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = (np.arange(len(idx)) + rng.integers(N_FOLDS)) % N_FOLDS
    return fold


class _FoldDecay(LogitAdjustedClassifier):
    """``LogitAdjustedClassifier`` whose members' decay group is chosen out of fold."""

    rule = "log_loss"  # or "balanced_accuracy"
    use = "chosen"  # "chosen", "all", "low" (always L), "high" (always H)
    margin = 0.0  # H must beat L by this much on the rule to be chosen

    def _problem(self, X, targets, sample_weight, tau=None):
        problem = super()._problem(X, targets, sample_weight, tau)
        K = problem.n_outputs
        seed = 0 if self.random_state is None else int(self.random_state)
        self._fold = _stratified_folds(targets.y, seed)
        return type(problem)(
            **{
                **problem.__dict__,
                "criterion": _MaskedMembers(problem.criterion, K),
                "y": targets.y + K * self._fold,
            }
        )

    def fit(self, X, y, sample_weight=None):
        self.decay_group_ = None  # every member, until the choice below
        super().fit(X, y, sample_weight)
        Xv = self._validate_X_predict(X)
        logp = self._forward(
            Xv, call=lambda module, Xb: torch.log_softmax(module(Xb), dim=-1).flatten(1)
        )
        logp = np.asarray(logp).reshape(len(Xv), len(FOLD), -1)
        yi = np.searchsorted(self.classes_, np.asarray(y))
        scores = []
        for g in (0, 1):
            member = np.array([np.flatnonzero((GROUP == g) & (FOLD == f))[0] for f in self._fold])
            oof = logp[np.arange(len(yi)), member]  # balanced log-probabilities
            per_class_nll = [-oof[yi == c, c].mean() for c in np.unique(yi)]
            per_class_acc = [(oof[yi == c].argmax(1) == c).mean() for c in np.unique(yi)]
            scores.append(
                -np.mean(per_class_nll) if self.rule == "log_loss" else np.mean(per_class_acc)
            )
        self.oof_scores_ = scores
        if self.use == "chosen":
            self.decay_group_ = 1 if scores[1] > scores[0] + self.margin else 0
        elif self.use in ("low", "high"):
            self.decay_group_ = 0 if self.use == "low" else 1
        return self

    def _average_members(self, outputs):
        logp = torch.log_softmax(outputs, dim=-1)
        group = getattr(self, "decay_group_", None)
        if group is None:
            return logp.mean(dim=1)
        keep = torch.as_tensor(np.flatnonzero(GROUP == group), device=outputs.device)
        return logp[:, keep].mean(dim=1)


def _variant(name, **attrs):
    cls = type(name, (_FoldDecay,), {**attrs, "__module__": __name__})
    globals()[name] = cls
    return cls


FoldDecayAll = _variant("FoldDecayAll", use="all")
FoldDecayLow = _variant("FoldDecayLow", use="low")
FoldDecayChosenLL = _variant("FoldDecayChosenLL", rule="log_loss")
FoldDecayChosenBA = _variant("FoldDecayChosenBA", rule="balanced_accuracy")
FoldDecayChosenBA2 = _variant("FoldDecayChosenBA2", rule="balanced_accuracy", margin=0.02)

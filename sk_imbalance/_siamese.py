"""SiameseAMSoftmaxEncoder: similarity embeddings trained with additive-margin softmax."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNeuralEstimator, Problem, fit_encoded
from ._classifier import encode_classes
from ._compat import Interval, StrOptions
from ._docs import fill_shared_doc
from ._validation import check_weights
from ._whitening import fisher_whitening
from .losses import AMSoftmaxLoss
from .metrics import leave_one_out_recall
from .networks import CosineClassifierNetwork, GRUEncoder, ResidualMLPEncoder

__all__ = ["SiameseAMSoftmaxEncoder"]

#: Fisher exponents ``q`` among which ``start="auto"`` chooses (0: plain whitening).
START_EXPONENTS = (0.0, 0.25, 0.5)


def _group_split(X, y_enc, sw, fraction, random_state, min_groups=10):
    """Held-out groups for early stopping, or None when there are too few.

    Only groups with at least 2 distinct positive-weight items are candidates; they are
    drawn from the sorted group indices, so the split depends only on the label set.
    """
    n_classes = int(y_enc.max()) + 1
    candidates = np.array(
        [c for c in range(n_classes) if _n_distinct(X[(y_enc == c) & (sw > 0)]) >= 2],
        dtype=np.int64,
    )
    if candidates.size < min_groups:
        return None
    n_held = min(max(2, int(round(fraction * candidates.size))), n_classes - 2)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(candidates, size=n_held, replace=False))


def _n_distinct(rows):
    return 0 if rows.shape[0] == 0 else np.unique(rows, axis=0).shape[0]


class _HeldOutRecall:
    """Weighted leave-one-out recall@1 (cosine of ``module.encode``) on held-out items.

    Zero-weight items are dropped and identical (row, group) items merged, each unique
    item querying the others with its total weight: integer weights then score exactly
    as repeated rows.
    """

    def __init__(self, X, groups, sw):
        keep = sw > 0
        X, groups, sw = X[keep], groups[keep], sw[keep]
        rows = np.column_stack([X, groups.astype(X.dtype)])
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        self.X = np.ascontiguousarray(uniq[:, :-1])
        self.groups = uniq[:, -1]
        self.weight = np.bincount(inverse.ravel(), weights=sw, minlength=uniq.shape[0])

    def __call__(self, module):
        param = next(module.parameters())
        Xt = torch.tensor(self.X, device=param.device, dtype=param.dtype)  # a copy: see _forward
        return self.of_embeddings(module.encode(Xt).double().cpu().numpy())

    def of_projection(self, P):
        """The score of the embeddings ``X @ P`` (a starting projection, untrained)."""
        return self.of_embeddings(self.X @ P)

    def of_embeddings(self, Z):
        return leave_one_out_recall(Z, self.groups, sample_weight=self.weight)


@fill_shared_doc
class SiameseAMSoftmaxEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNeuralEstimator
):
    r"""Similarity embeddings trained with additive-margin softmax (AM-Softmax).

    Every group of mutually similar items (``y``) is a class. An encoder :math:`g`
    maps an item to :math:`z = g(x)`, and the network is trained to classify items
    into their groups with the AM-Softmax loss (Wang et al., 2018) over cosines to
    normalised class weights :math:`W_j`:

    .. math::

        \ell = -\log \frac{e^{s(\cos_y - m)}}{e^{s(\cos_y - m)} + \sum_{j \ne y} e^{s \cos_j}},
        \qquad \cos_j = \frac{\langle W_j, z \rangle}{\|W_j\| \|z\|}.

    Each step contrasts an item with every group at once, so there is no negative
    sampling. After fitting only the encoder is used: :meth:`transform` returns the
    L2-normalised embeddings, and the cosine of two embeddings (:meth:`similarity`)
    says how similar two items are, also for groups never seen in training.

    Read more in the :ref:`User Guide <siamese>`.

    Parameters
    ----------
    embedding_dim : int or None, default=None
        Dimension of the embeddings. ``None`` is ``n_features_in_`` for
        ``encoder="mlp"`` (so the encoder starts as the starting projection, see
        ``start``) and 64 for ``encoder="gru"``.
    margin : float >= 0, default=0.35
        Additive cosine margin :math:`m` (the paper's default; 0.2-0.5 measured
        within 0.01 of each other at ``scale=8``).
    scale : float > 0, default=8.0
        Scale :math:`s` of the cosine logits. The paper's 30 is meant for thousands of
        classes; with tens of training groups it saturates the loss within a few
        epochs. In the research runs on the synthetic retrieval benchmark ``s=8``
        retrieved unseen groups best (recall@1 0.73 / 0.72 on its two seeds, against
        0.71 / 0.69 at 30, 0.72 / 0.70 at 16 and 0.69 / 0.70 at 4;
        ``research/encoder/FINDINGS.md``).
    tau : float, default=0.0
        Logit adjustment of the training loss (Menon et al., 2021):
        ``tau * log(prior)`` of the training groups (sample-weighted) is added to the
        *scaled* logits :math:`s(\cos - m 1_y)`, so that its size does not depend on
        ``s`` (added to the bounded cosines before scaling, the log-prior swamps
        them). 0 is none; it only shapes training.
    start : {"auto", "whiten", "identity"}, default="auto"
        The fixed starting projection ``P_0`` of ``encoder="mlp"`` (ignored for
        ``"gru"`` and for your own ``module``), fitted on the training groups with
        NumPy and scikit-learn before any training. ``"identity"``: the input
        itself. ``"whiten"``: the within-group whitening
        :math:`S_w^{-1/2}` of the pooled within-group covariance, shrunk with
        Ledoit-Wolf (``sklearn.covariance.ledoit_wolf``, as
        ``LinearDiscriminantAnalysis(shrinkage="auto")``): directions in which items
        of one group vary a lot are shrunk. ``"auto"``: the whitening, then each
        whitened direction weighted by its Fisher ratio (between- over within-group
        variance of the training groups) to the power :math:`q`, with :math:`q` in
        ``(0, 0.25, 0.5)`` (0 is plain whitening) chosen by the recall@1 of the
        held-out groups (see below; ties: the smaller :math:`q`), at the cost of
        three eigendecompositions and no training. Whitening transfers on text
        embeddings, Fisher weighting where many features are noise to every group;
        the held-out groups tell which. Without held-out groups ``"auto"`` is plain
        whitening.
    refit : bool, default=True
        After early stopping on the held-out groups chose an epoch :math:`E`, train a
        fresh encoder on *all* groups (the starting projection refitted on them with
        the chosen :math:`q`) for exactly :math:`E` epochs, with the same seed; with
        :math:`E = 0` the result is the starting projection. It roughly doubles the
        fit time for +0.02 recall@1 on the synthetic benchmark. False keeps the
        early-stopped encoder trained without the held-out groups.
    encoder : {"mlp", "gru"}, default="mlp"
        ``"mlp"``: for numeric features or precomputed embeddings, a residual
        encoder ``z = P x + D x + MLP(x)`` whose correction ``D`` and MLP branch start
        at zero and whose fixed ``P`` is the starting projection ``P_0`` (``start``;
        times a random semi-orthogonal projection when ``embedding_dim`` differs
        from ``n_features``). The starting geometry is a candidate of early stopping,
        which keeps the encoder from doing worse on the held-out groups than the
        untrained projection. ``"gru"``: for token-id sequences (2-D array of
        non-negative integer ids, 0 = padding), a bidirectional GRU whose token and
        hidden size are ``hidden_layer_sizes[0]`` (64 when it is empty); padding does
        not change an embedding. Without pretrained token vectors it retrieves far
        worse than a TF-IDF cosine of the same texts (see the user guide): for text,
        prefer TF-IDF (+ SVD) features with ``encoder="mlp"``.

        Unlike the other estimators, ``hidden_layer_sizes`` defaults to ``()``
        here: a linear residual encoder. On
        groups unseen in training a non-linear branch memorised the training
        groups and retrieved worse (``benchmarks/siamese_retrieval.py``).

        Also unlike the other estimators, ``early_stopping`` defaults to ``True``
        (with the ``validation_fraction``, ``n_iter_no_change`` and ``tol`` listed
        below), and early stopping works on *groups*, by retrieval: a
        ``validation_fraction`` of the groups with at least 2 distinct items (drawn
        with ``random_state`` from the sorted labels, so the draw depends only on the
        label set) is held out of training, and after every epoch, and before the
        first, the leave-one-out recall@1 by cosine among the held-out items is
        measured (sample-weighted; identical items are merged, so integer weights
        equal repeated rows). Training stops after ``n_iter_no_change`` epochs
        without an improvement of ``tol`` and the weights of the last epoch that
        improved by ``tol`` are restored (``best_epoch_``; then ``refit``). Epoch 0
        is a candidate: the untrained starting projection, so on the held-out groups
        the result never retrieves worse than it. This is what the encoder is for
        (groups not seen in training); the training loss keeps falling long after
        unseen-group retrieval has peaked, and on real text embeddings full training
        fell below the raw cosine (``benchmarks/siamese_retrieval.py``). The
        retrieval score moves in steps of one item, hence the larger ``tol`` and
        patience. With fewer than 10 such groups (or ``early_stopping=False``) all
        groups are trained on, training stops when the training loss stalls and
        there is no refit.
    %(shared_params)s

    Notes
    -----
    **Parameters after fitting.** None acts at prediction: every parameter shaped
    training, and a changed value acts at the next ``fit`` only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_groups,)
        The groups in ``y`` (the held-out ones included).
    embedding_dim_ : int
        Dimension of the embeddings.
    n_tokens_ : int
        Size of the token table (``encoder="gru"`` only).
    %(fitted_attrs)s
    validation_groups_ : ndarray
        The groups held out of training for early stopping (empty when none were).
    validation_scores_ : list of float
        Held-out recall@1 before training (epoch 0) and after each epoch (only when
        groups were held out).
    best_validation_score_ : float
        The held-out score of the restored epoch (within ``tol`` of the best of
        ``validation_scores_``).
    best_epoch_ : int
        The epoch of ``best_validation_score_`` (0: the initial weights), and the
        number of epochs of the refit.
    start_ : {"whiten", "identity"} or None
        The starting projection used (``"whiten"`` also for ``start="auto"``, with
        its ``fisher_exponent_``); None for ``encoder="gru"`` or your own ``module``.
    fisher_exponent_ : float or None
        The Fisher exponent :math:`q` of the starting projection (0: plain
        whitening); None without a whitening start.
    start_scores_ : dict
        Held-out recall@1 of each candidate :math:`q`, before training (only when
        groups were held out and ``start`` is not ``"identity"``).
    refitted_ : bool
        Whether the encoder was refitted on all groups (``refit``); then ``n_iter_``
        equals ``best_epoch_`` and ``loss_curve_`` is the refit's (empty for 0 epochs).

    See Also
    --------
    sklearn.neighbors.KNeighborsClassifier : Use with ``metric="cosine"`` after it.

    References
    ----------
    .. [1] F. Wang, J. Cheng, W. Liu and H. Liu, "Additive Margin Softmax for Face
       Verification", IEEE Signal Processing Letters 25(7), 2018.
    .. [2] H. Wang et al., "CosFace: Large Margin Cosine Loss for Deep Face
       Recognition", CVPR 2018.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sk_imbalance import SiameseAMSoftmaxEncoder
    >>> X, y = make_classification(600, 20, n_informative=8, n_classes=6,
    ...                            n_clusters_per_class=1, random_state=0)
    >>> enc = SiameseAMSoftmaxEncoder(max_iter=30, random_state=0).fit(X, y)
    >>> Z = enc.transform(X)
    >>> Z.shape
    (600, 20)
    >>> bool(abs((Z ** 2).sum(axis=1) - 1).max() < 1e-9)
    True
    >>> enc.validation_groups_.size  # 6 groups: too few to hold some out
    0
    >>> enc.start_  # so no start is chosen on held-out groups: plain whitening
    'whiten'
    >>> round(enc.score(X, y), 2)  # in-sample leave-one-out recall@1
    0.74
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseNeuralEstimator._parameter_constraints.items()
            # one encoder, constant rate, the encoder's own input
            if k not in ("n_members", "learning_rate_schedule", "feature_encoding", "n_bins")
        },
        "embedding_dim": [None, Interval(Integral, 1, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "tau": [Interval(Real, None, None, closed="neither")],
        "start": [StrOptions({"auto", "whiten", "identity"})],
        "refit": ["boolean"],
        "encoder": [StrOptions({"mlp", "gru"})],
    }

    def __init__(
        self,
        embedding_dim=None,
        margin=0.35,
        scale=8.0,
        tau=0.0,
        start="auto",
        refit=True,
        encoder="mlp",
        hidden_layer_sizes=(),
        activation="relu",
        dropout=0.0,
        learning_rate_init=1e-3,
        weight_decay=0.1,
        batch_size="auto",
        max_iter=400,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=40,
        tol=1e-2,
        module=None,
        device="auto",
        dtype="auto",
        random_state=None,
        verbose=0,
    ):
        self.embedding_dim = embedding_dim
        self.margin = margin
        self.scale = scale
        self.tau = tau
        self.start = start
        self.refit = refit
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.module = module
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _encode_targets(self, y):
        return encode_classes(self, y, kinds="groups")

    def _fit_validated(self, X, targets, sample_weight, routed):
        attrs = fit_encoded(self, X, targets, sample_weight)
        attrs["refitted_"] = False
        if not (self.refit and attrs["validation_groups_"].size):
            return attrs
        # refit on all groups for the chosen number of epochs, with the chosen start
        final = fit_encoded(
            self, X, targets, sample_weight, n_epochs=attrs["best_epoch_"],
            exponent=attrs["fisher_exponent_"],
        )  # fmt: skip
        keep = ("module_", "n_iter_", "loss_curve_", "device_", "dtype_")
        return {**attrs, **{k: final[k] for k in keep}, "refitted_": True}

    def _problem(self, X, targets, sample_weight, n_epochs=None, exponent=None):
        classes, y_enc = targets.attrs["classes_"], targets.y
        attrs = {}
        if self.encoder == "gru":
            if np.any(X < 0) or np.any(X != np.round(X)):
                raise ValueError(
                    'encoder="gru" needs X of non-negative integer token ids (0 = padding).'
                )
            attrs["n_tokens_"] = int(X.max()) + 2
            dim = 64 if self.embedding_dim is None else self.embedding_dim
        else:
            dim = X.shape[1] if self.embedding_dim is None else self.embedding_dim
        attrs["embedding_dim_"] = int(dim)
        held = None
        if self.early_stopping and n_epochs is None:
            held = _group_split(
                X, y_enc, sample_weight, self.validation_fraction, self.random_state
            )
        projects = self.encoder == "mlp" and self.module is None
        attrs["start_"] = self.start if projects else None
        candidates = {"auto": START_EXPONENTS, "whiten": (0.0,)}.get(attrs["start_"], ())
        if n_epochs is not None:  # the refit: the start chosen before, on all groups
            candidates = () if exponent is None else (exponent,)
        elif held is None:
            candidates = candidates[:1]  # nothing to choose on: plain whitening
        if held is None:
            # no held-out groups (too few, or the refit): train on all
            attrs["validation_groups_"] = classes[:0]
            train = np.ones(len(y_enc), dtype=bool)
            score_fn = None
        else:
            valid = np.isin(y_enc, held)
            attrs["validation_groups_"] = classes[held]
            train = ~valid
            score_fn = _HeldOutRecall(X[valid], y_enc[valid], sample_weight[valid])
        _, y_train = np.unique(y_enc[train], return_inverse=True)
        w_train = sample_weight[train]
        start, chosen, scores = None, None, {}
        for q in candidates:  # ties: the first
            P = fisher_whitening(X[train], y_train, q, w_train)
            if score_fn is None:
                start, chosen = P, q
                break
            scores[q] = score_fn.of_projection(P)
            if start is None or scores[q] > scores[chosen]:
                start, chosen = P, q
        if projects:
            attrs["start_"] = "identity" if start is None else "whiten"
        attrs["fisher_exponent_"] = chosen
        if scores:
            attrs["start_scores_"] = scores
        counts = np.bincount(y_train, weights=w_train)
        log_prior = np.log(np.maximum(counts, 1e-12) / counts.sum())
        return Problem(
            self._make_criterion(log_prior),
            int(y_train.max()) + 1,
            attrs=attrs,
            rows=None if held is None else np.flatnonzero(train),
            y=None if held is None else y_train,
            score_fn=score_fn,
            split_validation=False,
            max_epochs=n_epochs,
            build={"start": None if start is None else start.T},
        )

    def _make_criterion(self, log_prior):
        return AMSoftmaxLoss(
            scale=self.scale, margin=self.margin, reduction="none",
            log_prior=torch.as_tensor(log_prior), tau=self.tau,
        )  # fmt: skip

    def _build_module(self, n_features, n_outputs, problem):
        dim = problem.attrs["embedding_dim_"]
        if self.module is not None:
            encoder = super()._build_module(n_features, dim, problem)
        elif self.encoder == "gru":
            sizes = np.atleast_1d(self.hidden_layer_sizes)
            width = int(sizes[0]) if sizes.size else 64
            encoder = GRUEncoder(problem.attrs["n_tokens_"], dim, width, width, self.dropout)
        else:
            sizes = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
            start = problem.build.get("start")
            start = None if start is None else torch.as_tensor(start)
            encoder = ResidualMLPEncoder(
                n_features, dim, sizes, self.activation, self.dropout, start=start
            )
        return CosineClassifierNetwork(encoder, n_outputs, dim)

    #: What pickles of versions before the starting projection (issue 19) lack: they
    #: were fitted from the identity, without refit or logit adjustment.
    _EARLIER_DEFAULTS = {"start": "identity", "refit": False, "tau": 0.0}
    _EARLIER_FITTED = {"start_": "identity", "fisher_exponent_": None, "refitted_": False}

    def __setstate__(self, state):
        super().__setstate__(state)
        for key, value in self._EARLIER_DEFAULTS.items():
            self.__dict__.setdefault(key, value)
        if "module_" in self.__dict__:
            for key, value in self._EARLIER_FITTED.items():
                self.__dict__.setdefault(key, value)

    @property
    def _n_features_out(self):
        return self.embedding_dim_

    def transform(self, X):
        """L2-normalised embeddings of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, `embedding_dim_`)
            Rows of unit Euclidean norm.
        """
        X = self._validate_X_predict(X)
        return self._forward(X, call=lambda module, Xc: module.encode(Xc))

    def similarity(self, X1, X2):
        """Row-wise cosine similarity of the embeddings of ``X1`` and ``X2``.

        Parameters
        ----------
        X1, X2 : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            ``similarity[i]`` is the cosine between items ``X1[i]`` and ``X2[i]``.
        """
        Z1, Z2 = self.transform(X1), self.transform(X2)
        if Z1.shape[0] != Z2.shape[0]:
            raise ValueError(
                f"X1 and X2 must have the same number of rows; got {Z1.shape[0]} and {Z2.shape[0]}."
            )
        return np.sum(Z1 * Z2, axis=1)

    def score(self, X, y, sample_weight=None):
        """Leave-one-out top-1 retrieval accuracy within ``X``.

        Each item whose group has another member in ``X`` queries all other items;
        it counts as correct when the item of highest cosine similarity is in its
        group. The groups need not be those seen in training.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Group of each item.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the queries: the score is the weighted mean of their hits.

        Returns
        -------
        float
            Recall@1 in [0, 1].
        """
        check_is_fitted(self)
        Z = self.transform(X)
        y = np.asarray(y)
        if y.shape[0] != Z.shape[0]:
            raise ValueError(f"X has {Z.shape[0]} rows but y has {y.shape[0]} entries.")
        if sample_weight is not None:
            sample_weight = check_weights(sample_weight, Z)
        return leave_one_out_recall(Z, y, sample_weight=sample_weight)

"""Headroom: linear maps fitted on the *test* groups (in-sample, optimistic), and TF-IDF cosine."""
import sys
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
sys.path.insert(0, ".")
from data import CASES, text_split
from probe_classical import wc_whiten
from sk_imbalance._siamese import leave_one_out_recall as loo
from sklearn.feature_extraction.text import TfidfVectorizer

for name in sys.argv[1:]:
    Xtr, ytr, Xte, yte = CASES[name]()
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Xte, yte)
    print(name, "oracle LDA", round(loo(lda.transform(Xte), yte), 3))
    for a in [0.1, 0.3]:
        print(name, "oracle wc-whiten", a, round(loo(Xte @ wc_whiten(Xte, yte, a), yte), 3))
    # pooled: whitening fitted on train+test
    X = np.vstack([Xtr, Xte]); y = np.concatenate([ytr, yte])
    print(name, "train+test wc-whiten .1", round(loo(Xte @ wc_whiten(X, y, .1), yte), 3))
    if name.startswith("text"):
        texts, groups, train = text_split(int(name[-1]))
        for kw in [dict(sublinear_tf=True, min_df=2), dict(sublinear_tf=True, min_df=1), dict(sublinear_tf=True, min_df=2, ngram_range=(1,2)), dict(sublinear_tf=True, analyzer="char_wb", ngram_range=(3,5), min_df=2)]:
            tf = TfidfVectorizer(**kw).fit(texts[train])
            print(name, "tfidf cosine", kw, round(loo(tf.transform(texts[~train]).toarray(), groups[~train]), 3))

"""Token-id inputs for the GRU route (issue 19): tokenisers that give padded id arrays.

- ``word_vocab``: lower-case words of the training texts seen at least twice get ids
  ``1..V`` (the gallery example's tokenisation); other words are dropped.
- ``word_hash``: every lower-case word hashed into ``n_buckets`` ids (no vocabulary, so
  words only the unseen groups use get ids too; collisions are shared).
- ``char_hash``: a word's character n-grams (``<word>`` padded, n in 3..5) and the word
  itself, hashed; each word contributes several ids (fastText-style subwords).

All return ``(ids, n_tokens)``: ``ids`` of shape ``(n_texts, max_len)``, ``0`` padding.
Hashing uses ``zlib.crc32`` (stable across runs, unlike ``hash``).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

import numpy as np

_WORD = re.compile(r"[a-z]+")


def _words(text):
    return _WORD.findall(text.lower())


def _pad(seqs, max_len):
    X = np.zeros((len(seqs), max_len), dtype=np.int64)
    for r, s in enumerate(seqs):
        s = s[:max_len]
        X[r, : len(s)] = s
    return X


def word_vocab(texts, train, max_len=40, min_count=2):
    words = [_words(t) for t in texts]
    counts = Counter(w for ws, tr in zip(words, train) if tr for w in ws)
    vocab = {w: i + 1 for i, (w, c) in enumerate(counts.most_common()) if c >= min_count}
    return _pad([[vocab[w] for w in ws if w in vocab] for ws in words], max_len), len(vocab) + 1


def _h(s, n_buckets):
    return 1 + zlib.crc32(s.encode()) % n_buckets


def word_hash(texts, train=None, max_len=80, n_buckets=2**15):
    seqs = [[_h(w, n_buckets) for w in _words(t)] for t in texts]
    return _pad(seqs, max_len), n_buckets + 1


def char_hash(texts, train=None, max_len=400, n_buckets=2**16, n_min=3, n_max=5):
    seqs = []
    for t in texts:
        ids = []
        for w in _words(t):
            ids.append(_h("w:" + w, n_buckets))
            s = f"<{w}>"
            for n in range(n_min, n_max + 1):
                ids.extend(_h(s[i : i + n], n_buckets) for i in range(len(s) - n + 1))
        seqs.append(ids)
    return _pad(seqs, max_len), n_buckets + 1


TOKENISERS = {"word_vocab": word_vocab, "word_hash": word_hash, "char_hash": char_hash}

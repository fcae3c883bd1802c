"""Load a user's CSV file for the benchmark."""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["load_csv"]


def load_csv(path, target):
    """Read a CSV file into features and a target column.

    Numeric columns are kept as they are; text/categorical feature columns are one-hot
    encoded (``pandas.get_dummies``). Rows whose target is missing are dropped.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    target : str
        Name of the column holding the class labels.

    Returns
    -------
    X : pandas.DataFrame
    y : pandas.Series

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If ``target`` is not a column (the message lists the columns), or no feature
        column is left.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file not found: {path}")
    df = pd.read_csv(path)
    if target not in df.columns:
        cols = ", ".join(map(str, df.columns))
        raise ValueError(f"Target column {target!r} is not in {path}; its columns are: {cols}.")
    df = df[df[target].notna()]
    y = df[target]
    X = df.drop(columns=[target])
    if X.shape[1] == 0:
        raise ValueError(f"{path} has no feature column besides the target {target!r}.")
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if categorical:
        X = pd.get_dummies(X, columns=categorical, dtype=float)
    return X.astype(float), y.reset_index(drop=True)

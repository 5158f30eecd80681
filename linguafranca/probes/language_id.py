"""Language-identification probes per layer (after Riemenschneider & Frank, 2025).

Per layer, a multinomial logistic regression on standardised token vectors predicts each token's language. Train
and test sets are split by sample id: translations share a sample id, so the same ids are held out in every
language and no meaning is seen in training and tested in another language. Each probe seed draws its own split.
Two chance rows sit beside every probe: the majority class of the training set, and the same probe trained on
labels shuffled among the training tokens.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import read_group, read_layer_of
from linguafranca.io.probe_stores import TOKEN_STORE

#: Columns of ``probes/language_id.tsv``.
COLUMNS = ("probe", "layer", "seed", "accuracy", "macro_f1", "n_train", "n_test")


def split_by_sample(sample_ids: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bool masks ``(train, test)`` over tokens: a seeded ``test_fraction`` of the distinct sample ids is held out,
    with all their tokens in every language; at least one id on each side."""
    ids = np.unique(sample_ids)
    if len(ids) < 2:
        raise LinguaFrancaError(f"probes need tokens of at least two sample ids to split, got {len(ids)}")
    n_test = min(len(ids) - 1, max(1, int(round(test_fraction * len(ids)))))
    held_out = np.random.default_rng(seed).choice(ids, n_test, replace=False)
    test = np.isin(sample_ids, held_out)
    return ~test, test


def _scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(truth, predicted)), float(f1_score(truth, predicted, average="macro", zero_division=0))


def fit_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int, max_iter: int) -> np.ndarray:
    """Predicted labels of ``x_test`` from a standardised multinomial logistic regression fitted on the training
    tokens (L2, C = 1, lbfgs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a capped probe is still a probe; max_iter is config
        probe.fit(x_train, y_train)
    return probe.predict(x_test)


def probe_rows(
    layers: Sequence[np.ndarray], langs: np.ndarray, sample_ids: np.ndarray, seeds: Sequence[int],
    test_fraction: float, max_iter: int,
) -> list[dict]:
    """Rows of ``language_id.tsv``: for each seed, its split, the majority row (layer ``all``), and per layer the
    probe and the shuffled-label probe. ``layers[l]`` is ``[n_tokens, d]``; ``langs``/``sample_ids`` ``[n_tokens]``."""
    rows = []
    for seed in seeds:
        train, test = split_by_sample(sample_ids, test_fraction, seed)
        sizes = {"seed": seed, "n_train": int(train.sum()), "n_test": int(test.sum())}
        values, counts = np.unique(langs[train], return_counts=True)
        majority = np.full(test.sum(), values[np.argmax(counts)])
        accuracy, f1 = _scores(langs[test], majority)
        rows.append({"probe": "majority", "layer": "all", "accuracy": accuracy, "macro_f1": f1, **sizes})
        shuffled = np.random.default_rng(seed).permutation(langs[train])
        for layer, x in enumerate(layers):
            for probe, labels in (("language_id", langs[train]), ("shuffled", shuffled)):
                predicted = fit_probe(x[train], labels, x[test], seed, max_iter)
                accuracy, f1 = _scores(langs[test], predicted)
                rows.append({"probe": probe, "layer": layer, "accuracy": accuracy, "macro_f1": f1, **sizes})
    return rows


def mean_accuracy(rows: Sequence[dict], probe: str = "language_id") -> dict[int, float]:
    """Mean accuracy over seeds per layer of one probe kind (rows as written or as read back from the TSV)."""
    by_layer: dict[int, list[float]] = {}
    for row in rows:
        if row["probe"] == probe and str(row["layer"]) != "all":
            by_layer.setdefault(int(row["layer"]), []).append(float(row["accuracy"]))
    return {layer: float(np.mean(values)) for layer, values in sorted(by_layer.items())}


def read_probe_inputs(paths: Sequence[str], langs: Sequence[str]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``(layers, langs, sample ids)`` of every token of the token stores, languages stacked in the given order:
    ``layers[l]`` float32 ``[n_tokens, d_model]``."""
    token_langs, token_ids, n_layers = [], [], None
    for lang, path in zip(langs, paths):
        values, attrs = read_group(TOKEN_STORE, path, ["token_sample"])
        ids = np.asarray(attrs["sample_ids"], dtype=str)
        token_ids.append(ids[values["token_sample"]])
        token_langs.append(np.full(len(values["token_sample"]), lang))
        n_layers = int(attrs["n_layers"])
    layers = [np.concatenate([read_layer_of(TOKEN_STORE, path, "hidden", layer) for path in paths])
              for layer in range(n_layers)]
    return layers, np.concatenate(token_langs), np.concatenate(token_ids)

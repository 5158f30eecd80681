"""Activation stores written from given per-sample means, for tests of the stages that read them."""

from __future__ import annotations

import numpy as np

from linguafranca.io.activations import activation_writer


def write_stores(directory, means, langs, sample_ids=None, block=2, attrs=None):
    """One store per language of ``means`` (``[n_langs, n_samples, n_layers, n_neurons]``); returns ``{lang: path}``.

    ``sample_ids`` default to ``s0, s1, ...``; ``attrs`` add to or replace the store attributes (model, dataset, ...).
    """
    _, n, n_layers, n_neurons = means.shape
    sample_ids = sample_ids or [f"s{i}" for i in range(n)]
    stores = {}
    for lang, data in zip(langs, means):
        path = directory / f"{lang}.zarr"
        with activation_writer(path, n, n_layers, n_neurons, block, max_tokens=64) as writer:
            for start in range(0, n, block):
                rows = data[start : start + block]
                writer.write(start, rows, np.full(len(rows), 3), np.ones(rows.shape, dtype=np.uint16))
            writer.finish(
                {
                    "lang": lang,
                    "sample_ids": list(sample_ids),
                    "n_layers": n_layers,
                    "n_neurons": n_neurons,
                    "model": "tiny",
                    "revision": "r0",
                    "dataset": "toy",
                    **(attrs or {}),
                }
            )
        stores[lang] = path
    return stores

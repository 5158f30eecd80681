"""Activation stores written from given per-sample means, for tests of the stages that read them."""

from __future__ import annotations

import numpy as np

from linguafranca.io.activations import activation_writer


def write_stores(directory, means, langs, sample_ids=None, block=2, attrs=None, counts=None, n_tokens=None):
    """One store per language of ``means`` (``[n_langs, n_samples, n_layers, n_neurons]``); returns ``{lang: path}``.

    ``sample_ids`` default to ``s0, s1, ...``; ``attrs`` add to or replace the store attributes (model, dataset, ...);
    ``counts`` (like ``means``) and ``n_tokens`` (``[n_langs, n_samples]``) default to ones and threes.
    """
    _, n, n_layers, n_neurons = means.shape
    sample_ids = sample_ids or [f"s{i}" for i in range(n)]
    stores = {}
    counts = np.ones(means.shape, dtype=np.uint16) if counts is None else counts
    n_tokens = np.full(means.shape[:2], 3) if n_tokens is None else n_tokens
    for lang, data, active, tokens in zip(langs, means, counts, n_tokens):
        path = directory / f"{lang}.zarr"
        with activation_writer(path, n, n_layers, n_neurons, block, max_tokens=64) as writer:
            for start in range(0, n, block):
                rows = slice(start, start + block)
                writer.write(start, data[rows], tokens[rows], active[rows])
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


def write_tiny_methods_store(path, langs, n_layers=2, n_neurons=6, permutations=3, seed=0):
    """A methods store of random masks and scores for ``langs`` (methods lape and ap); returns ``(path, arrays)``."""
    from linguafranca.io.methods_store import write_methods_store

    rng = np.random.default_rng(seed)
    shape = (2, len(langs), n_layers, n_neurons)
    arrays = {
        "mask": rng.random(shape) < 0.3,
        "score": rng.random(shape).astype(np.float32),
        "rank": rng.integers(1, 10, shape).astype(np.int32),
        "random_mask_per_language": rng.random(shape) < 0.3,
        "null_count": rng.integers(0, 4, (2, permutations, len(langs), n_layers)).astype(np.int32),
        "median": rng.normal(size=shape[1:]).astype(np.float32),
    }
    attrs = {"methods": ["lape", "ap"], "langs": list(langs), "null_permutations": permutations,
             "score_names": {"lape": "activation_probability", "ap": "ap"}, "model": "tiny", "revision": "r0",
             "dataset": "d"}
    write_methods_store(path, arrays, {name: name for name in arrays}, attrs)
    return path, arrays

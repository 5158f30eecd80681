"""The seeded random control masks over a model's neurons ``[n_layers, n_neurons]``, drawn one way for every stage.

The regions stage stores them beside the key regions; the deactivation stages draw the shared ``random`` control
themselves from the model's shape (:func:`linguafranca.ablation.deactivation.model_random_mask`), so that its
results depend only on the shape, the fraction and the seed, never on a threshold or a regions store. Both call
:func:`random_mask`, so the masks agree. numpy only: the regions job loads no torch.
"""

from __future__ import annotations

import math

import numpy as np

from linguafranca.errors import LinguaFrancaError


def check_fraction(fraction: float) -> None:
    if not 0 <= fraction <= 1:
        raise LinguaFrancaError(f"random_fraction must be between 0 and 1 (a share of all neurons), got {fraction}")


def _mask_of(shape: tuple[int, ...], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct positions of ``shape`` drawn uniformly, as a bool mask."""
    mask = np.zeros(math.prod(shape), dtype=bool)
    mask[rng.choice(mask.size, size=count, replace=False)] = True
    return mask.reshape(shape)


def random_mask(shape: tuple[int, ...], fraction: float, seed: int) -> np.ndarray:
    """Bool mask of ``shape`` (``[n_layers, n_neurons]``) with exactly ``round(fraction * size)`` neurons set.

    Drawn without replacement by ``numpy.random.default_rng(seed)``, so a seed gives the same mask everywhere.
    """
    check_fraction(fraction)
    return _mask_of(tuple(shape), int(round(fraction * math.prod(shape))), np.random.default_rng(seed))


def matched_random_masks(mask: np.ndarray, seed: int | list[int]) -> np.ndarray:
    """One random mask per language with as many neurons as its key region, bool like ``mask`` (``[n_langs, ...]``).

    Language ``a`` draws from the ``a``-th child of ``default_rng(seed)`` (``Generator.spawn``), so its mask does
    not depend on other languages' region sizes nor repeat the draw of :func:`random_mask` with the same seed.
    ``seed`` may be a list of ints (entropy words), which keeps other masks' controls on separate streams.
    Positions are drawn from all neurons, including the language's own key neurons.
    """
    mask = np.asarray(mask, dtype=bool)
    rngs = np.random.default_rng(seed).spawn(len(mask))
    return np.stack([_mask_of(m.shape, int(m.sum()), rng) for m, rng in zip(mask, rngs)])

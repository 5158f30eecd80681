"""The Jaccard index of neuron masks, shared by the concept stage and the series, with the empty-set case stated.

Two empty masks have no overlap to measure. Each caller says what that means for it: ``1.0`` where two empty expert
sets are the same set (the concept stage's overlap between languages), NaN where there is no region to compare (the
series' consecutive-point overlap, which a reader then skips).
"""

from __future__ import annotations

import numpy as np


def jaccard(a: np.ndarray, b: np.ndarray, *, empty: float, axis: tuple[int, ...] | None = None) -> np.ndarray:
    """|a ∩ b| / |a ∪ b| of two bool masks over ``axis`` (all axes when None), ``empty`` where both are empty."""
    inter = np.logical_and(a, b).sum(axis=axis)
    union = np.logical_or(a, b).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), empty)

"""Row-wise deactivation: each batch row runs as if it had been deactivated alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from linguafranca.errors import LinguaFrancaError
from linguafranca.model.architectures import down_projections, n_neurons
from linguafranca.model.hooks import deactivate, deactivate_rows
from tests.helpers.tiny import CONFIGS, tiny_model


def _masks(model: torch.nn.Module, seed: int = 0) -> list[np.ndarray]:
    shape = (len(down_projections(model)), n_neurons(model))
    rng = np.random.default_rng(seed)
    one_layer = np.zeros(shape, dtype=bool)
    one_layer[-1, rng.choice(shape[1], shape[1] // 3, replace=False)] = True
    return [np.zeros(shape, dtype=bool), rng.random(shape) < 0.2, one_layer]


@pytest.mark.parametrize("arch", sorted(CONFIGS))
def test_each_row_equals_its_own_deactivation(arch):
    model = tiny_model(arch).float().eval()
    masks = _masks(model)
    ids = torch.randint(3, model.config.vocab_size, (1, 9), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        with deactivate_rows(model, masks):
            batched = model(ids.repeat(len(masks), 1)).logits
        for row, mask in enumerate(masks):
            with deactivate(model, mask):
                alone = model(ids).logits[0]
            torch.testing.assert_close(batched[row], alone, rtol=1e-5, atol=1e-5)
        plain = model(ids).logits[0]
    # The empty mask leaves its row as the untouched model; the others change it.
    torch.testing.assert_close(batched[0], plain, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(batched[1], plain, atol=1e-4)


def test_hooks_are_removed_and_row_count_checked():
    model = tiny_model("llama").float().eval()
    masks = _masks(model)
    ids = torch.randint(3, model.config.vocab_size, (2, 5))
    with pytest.raises(LinguaFrancaError, match="3 masks, but the batch has 2 rows"):
        with deactivate_rows(model, masks), torch.inference_mode():
            model(ids)
    assert all(not m._forward_pre_hooks for m in down_projections(model))

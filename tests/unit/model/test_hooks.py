"""Row-wise deactivation: each batch row runs as if it had been deactivated alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from linguafranca.errors import LinguaFrancaError
from linguafranca.model.architectures import down_projections, n_neurons
from linguafranca.model.hooks import deactivate, deactivate_rows, force
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


@pytest.mark.parametrize("arch", ["llama", "gpt2", "opt"])
def test_forced_rows_equal_forcing_alone(arch):
    """A row with values runs as :func:`force` would run it alone; the other rows stay deactivated or untouched."""
    model = tiny_model(arch).float().eval()
    masks = _masks(model)
    shape = masks[0].shape
    values = np.random.default_rng(3).normal(size=shape)
    ids = torch.randint(3, model.config.vocab_size, (1, 7), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        with deactivate_rows(model, masks, [None, values, None]):
            batched = model(ids.repeat(len(masks), 1)).logits
        neurons = {layer: (np.flatnonzero(masks[1][layer]), values[layer][masks[1][layer]])
                   for layer in range(shape[0]) if masks[1][layer].any()}
        with force(model, neurons):
            forced = model(ids).logits[0]
        with deactivate(model, masks[2]):
            zeroed = model(ids).logits[0]
        plain = model(ids).logits[0]
    torch.testing.assert_close(batched[1], forced, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched[2], zeroed, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched[0], plain, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(forced, zeroed, atol=1e-4)


def test_forced_values_must_fit_the_model():
    model = tiny_model("llama").float().eval()
    masks = _masks(model)
    with pytest.raises(LinguaFrancaError, match="forced values need a boolean mask"):
        with deactivate_rows(model, masks[:1], [np.zeros((1, 1))]):
            pass

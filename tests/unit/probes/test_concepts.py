"""Concept neurons: vectorised AP against scikit-learn, planted experts, overlap bounds, the intervention hook."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from linguafranca.model.hooks import force
from linguafranca.probes.concepts import (
    average_precision,
    concept_labels,
    concept_neurons,
    contrast_sets,
    cross_lingual_rows,
    jaccard,
    overlap_rows,
    select_samples,
    shared_share,
    top_k,
)
from linguafranca.probes.intervention import distinctive_units, expert_medians, mentions, units
from tests.helpers.tiny import word_model


@pytest.mark.parametrize("seed", range(4))
def test_ap_equals_sklearn_with_and_without_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(60) < 0.3
    labels[:2] = [True, False]
    scores = np.column_stack([rng.normal(size=60), rng.integers(0, 4, 60), np.zeros(60), labels + 0.0,
                              rng.integers(0, 2, 60) * 1.0])
    expected = [average_precision_score(labels, scores[:, j]) for j in range(scores.shape[1])]
    np.testing.assert_allclose(average_precision(scores, labels), expected, rtol=1e-12)


def test_planted_concept_neurons_are_the_experts():
    rng = np.random.default_rng(0)
    n_langs, n, n_layers, width = 3, 80, 2, 30
    labels = np.zeros((2, n), dtype=bool)
    labels[0, :20], labels[1, 20:35] = True, True
    responses = rng.normal(size=(n_langs, n, n_layers, width)).astype(np.float32)
    responses[:, labels[0], 1, 7] += 4  # concept 0: neuron (1, 7) in every language
    responses[0, labels[1], 0, 3] += 4  # concept 1: neuron (0, 3) in language 0 only
    settings = {"negatives": 40, "min_positives": 5, "experts": 1}
    ap, experts, contrast, kept = concept_neurons(responses, labels, settings, seed=0)
    assert kept.all() and ap.shape == (2, n_langs, n_layers, width)
    assert all(experts[0, lang, 1, 7] and experts[0, lang].sum() == 1 for lang in range(n_langs))
    assert experts[1, 0, 0, 3] and ap[1, 0, 0, 3] > 0.9
    rows = overlap_rows(experts[:1], ["a", "b", "c"], ["c0"])
    assert all(row["jaccard"] == 1.0 for row in rows)
    cross = {(r["experts_lang"], r["sentences_lang"]): r["ap"] for r in cross_lingual_rows(ap[1:], experts[1:],
                                                                                           ["a", "b", "c"])}
    assert cross["a", "a"] > 0.9 and cross["a", "b"] < 0.6


def test_overlap_of_identical_sets_is_one_and_of_disjoint_sets_zero():
    a = np.zeros((2, 5), dtype=bool)
    a[0, :3] = True
    b = np.zeros_like(a)
    b[1, :3] = True
    assert jaccard(a, a) == 1.0 and jaccard(a, b) == 0.0
    assert shared_share(np.stack([a, a, a]), 3) == 1.0
    assert shared_share(np.stack([a, b]), 2) == 0.0


def test_top_k_count_and_fraction():
    ap = np.arange(20.0).reshape(2, 10)
    assert top_k(ap, 3).sum() == 3 and top_k(ap, 3)[1, 7:].all()
    assert top_k(ap, 0.25).sum() == 5


def test_labels_selection_and_contrast_sets():
    english = ["The water of the sea.", "Waters rose.", "A king of kings.", "Nothing here.", "Bread and watery."]
    labels = concept_labels(english, {"water": ["water", "waters"], "king": ["king"]})
    assert labels.tolist() == [[True, True, False, False, False], [False, False, True, False, False]]
    chosen = select_samples(labels, 4, seed=0)
    assert len(chosen) == 4 and set(chosen) >= {3, 4} and (np.diff(chosen) > 0).all()
    sets = contrast_sets(labels, negatives=2, min_positives=2, seed=0)
    assert set(sets[0]) >= {0, 1} and len(sets[0]) == 4 and len(sets[1]) == 0


def test_lexicon_units_and_mentions():
    assert units("起初神") >= {"起", "初", "起初", "初神"}
    assert distinctive_units(["le roi dit", "un roi vient"], ["le pain", "la mer"], top=1) == ["roi"]
    assert mentions("Le Roi est là", {"roi"}) and not mentions("le pain", {"roi"})


def test_intervention_with_no_experts_changes_nothing_and_forcing_changes_the_neurons():
    model = word_model("llama", n_layers=2)
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.inference_mode():
        before = model(ids).logits
        with force(model, {}):
            untouched = model(ids).logits
        experts = np.zeros((2, 64), dtype=bool)
        with force(model, expert_medians(experts, np.zeros((3, 2, 64)), np.array([True, False, True]))):
            empty = model(ids).logits
        experts[1, [4, 9]] = True
        responses = np.random.default_rng(0).normal(size=(3, 2, 64))
        seen = []
        down = model.model.layers[1].mlp.down_proj
        with force(model, expert_medians(experts, responses, np.array([True, False, True]))):
            handle = down.register_forward_pre_hook(lambda m, a: seen.append(a[0].clone()))  # runs after force's
            forced = model(ids).logits
        handle.remove()
    assert torch.equal(before, untouched) and torch.equal(before, empty)
    assert not torch.equal(before, forced)
    expected = np.median(responses[[0, 2]], axis=0)[1, [4, 9]]
    np.testing.assert_allclose(seen[0][0, :, [4, 9]].numpy(), np.broadcast_to(expected, (4, 2)), rtol=1e-6)


def test_sampling_with_an_empty_expert_set_equals_the_untouched_model_and_is_seeded():
    from tests.helpers.tiny import word_tokenizer

    from linguafranca.data.identify import language_of
    from linguafranca.probes.intervention import sample_from_bos

    model, tokenizer = word_model("llama", n_layers=2), word_tokenizer()
    untouched = sample_from_bos(model, tokenizer, {}, n_samples=3, seed=5, max_new_tokens=6)
    empty = sample_from_bos(model, tokenizer, expert_medians(np.zeros((2, 64), bool), np.zeros((2, 2, 64)),
                                                             np.array([True, True])), 3, 5, 6)
    assert untouched == empty and len(set(untouched)) > 1
    assert language_of("") == "" and language_of("Au commencement, Dieu créa les cieux et la terre.") == "fr"

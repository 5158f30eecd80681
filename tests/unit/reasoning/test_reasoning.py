"""The reasoning stage: our lm-eval tasks, FastLM against lm-eval's HFLM and a direct computation, deactivation,
the data checks, and the accuracy table."""

import copy
import math

import numpy as np
import pytest
import torch
import yaml
from lm_eval.models.huggingface import HFLM

from linguafranca.errors import LinguaFrancaError
from linguafranca.model.architectures import n_neurons
from linguafranca.pipeline.config import validate
from linguafranca.reasoning import fast_lm as lm_model
from linguafranca.reasoning.evaluation import evaluate, write_results
from linguafranca.reasoning.fast_lm import FastLM, passes
from linguafranca.reasoning.items import NOT_AVAILABLE, STORY_COLUMNS, bible_items, story_items
from linguafranca.reasoning.tables import accuracy_rows, wilson
from tests.helpers.paths import REPO, shared_data
from tests.helpers.tiny import tiny_model, tiny_tokenizer

LANGS = ["en", "es", "zh"]


def settings(path=None, limit=5):
    return {"limit": limit, "max_length": 512, "xstorycloze": {"path": path},
            "bible": {"books": [43], "context_verses": 2, "seed": 0, "db": None}}


def model(arch: str) -> torch.nn.Module:
    m = tiny_model(arch)
    if arch == "gemma3_text":
        m.config.final_logit_softcapping = 1.0  # soft-capping must be applied at the scored positions too
    return m


def loglikelihoods(results: dict) -> dict[str, list[list[float]]]:
    return {task: [[resp[0][0] for resp in sample["resps"]] for sample in samples]
            for task, samples in results["samples"].items()}


@pytest.fixture(scope="module", params=["llama", "gemma3_text"])
def both(request):
    """FastLM's and HFLM's results on the Bible task, 5 items in each of LANGS, on one tiny model."""
    m, tokenizer = model(request.param), tiny_tokenizer()
    fast = evaluate(FastLM(m, tokenizer), "bible", LANGS, settings())
    slow = evaluate(HFLM(pretrained=m, tokenizer=tokenizer, max_length=512, batch_size=3), "bible", LANGS, settings())
    return m, tokenizer, fast, slow


def test_fast_model_agrees_with_hflm(both):
    _, _, fast, slow = both
    assert set(fast["results"]) == {f"bible_xling_next_{lang}" for lang in LANGS}
    ours, theirs = loglikelihoods(fast), loglikelihoods(slow)
    for task in ours:
        assert len(ours[task]) == 5
        np.testing.assert_allclose(ours[task], theirs[task], atol=1e-4, rtol=0)
        assert fast["results"][task]["acc,none"] == slow["results"][task]["acc,none"]


@pytest.mark.parametrize("overhead, batch_size", [(0, 1), (0, 4), (10**6, 64)])
def test_any_split_into_passes_gives_hflms_loglikelihoods(both, monkeypatch, overhead, batch_size):
    """One context and one continuation per pass (overhead 0: the cache is copied for every pass but the last),
    and everything in one pass each (a huge overhead), score what HFLM scores."""
    m, tokenizer, _, slow = both
    monkeypatch.setattr(lm_model, "PASS_TOKENS", overhead)
    fast = evaluate(FastLM(m, tokenizer, batch_size=batch_size), "bible", LANGS, settings())
    ours, theirs = loglikelihoods(fast), loglikelihoods(slow)
    for task in ours:
        np.testing.assert_allclose(ours[task], theirs[task], atol=1e-4, rtol=0)


def brute_force_passes(lengths: list[int], overhead: int, most: int) -> int:
    """The least padded tokens + overhead over every split of the sorted rows into consecutive passes."""
    n, best = len(lengths), None
    for mask in range(2 ** (n - 1)):  # bit i set: a pass ends after row i
        cuts = [0] + [i + 1 for i in range(n - 1) if mask >> i & 1] + [n]
        if any(b - a > most for a, b in zip(cuts, cuts[1:])):
            continue
        cost = sum((b - a) * lengths[b - 1] + overhead for a, b in zip(cuts, cuts[1:]))
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_passes_are_the_cheapest_split(seed):
    rng = np.random.default_rng(seed)
    lengths = sorted(rng.integers(1, 60, size=int(rng.integers(1, 9))).tolist())
    overhead, most = int(rng.integers(0, 80)), int(rng.integers(1, 6))
    groups = passes(lengths, overhead, most)
    assert [i for g in groups for i in g] == list(range(len(lengths)))
    assert all(0 < len(g) <= most for g in groups)
    cost = sum(len(g) * lengths[g.stop - 1] + overhead for g in groups)
    assert cost == brute_force_passes(lengths, overhead, most)


def test_passes_need_ascending_lengths():
    with pytest.raises(ValueError, match="ascending"):
        passes([3, 1], 0)


def test_one_items_loglikelihoods_equal_a_direct_computation(both):
    m, tokenizer, fast, _ = both
    sample = fast["samples"]["bible_xling_next_es"][0]
    doc = sample["doc"]
    for choice, resp in zip(doc["choices"], sample["resps"]):
        context = tokenizer(doc["query"]).input_ids
        whole = tokenizer(doc["query"] + " " + choice).input_ids
        assert whole[: len(context)] == context
        with torch.no_grad():
            logits = m(torch.tensor([whole])).logits[0].double()
        logprobs = torch.log_softmax(logits, dim=-1)
        direct = sum(float(logprobs[i - 1, whole[i]]) for i in range(len(context), len(whole)))
        assert resp[0][0] == pytest.approx(direct, abs=1e-5)


def test_both_tasks_run_end_to_end_on_five_items():
    folder = shared_data() / "xstorycloze"
    if not folder.is_dir():
        pytest.skip(f"XStoryCloze not found at {folder}: this test needs ../shared/data beside the repository")
    lm = FastLM(model("llama"), tiny_tokenizer())
    stories = evaluate(lm, "xstorycloze", ["en", "fr", "zh"], settings(str(folder)))
    assert set(stories["results"]) == {"xstorycloze_xling_en", "xstorycloze_xling_zh"}  # no French XStoryCloze
    first = stories["samples"]["xstorycloze_xling_zh"][0]["doc"]
    assert first["query"].endswith("\nThe ending in English:") and all(c.isascii() for c in first["choices"][0][:20])
    assert all(stories["n-samples"][t]["effective"] == 5 for t in stories["results"])
    bible = evaluate(lm, "bible", ["fr"], settings())
    assert bible["n-samples"]["bible_xling_next_fr"]["effective"] == 5


def test_switching_neurons_off_changes_scores_and_an_empty_mask_changes_nothing():
    m, tokenizer = model("llama"), tiny_tokenizer()
    shape = (m.config.num_hidden_layers, n_neurons(m))
    mask = np.zeros(shape, dtype=bool)
    mask[:, ::2] = True
    base = loglikelihoods(evaluate(FastLM(m, tokenizer), "bible", ["es"], settings(limit=2)))
    empty = loglikelihoods(evaluate(FastLM(m, tokenizer, np.zeros(shape, bool)), "bible", ["es"], settings(limit=2)))
    off = loglikelihoods(evaluate(FastLM(m, tokenizer, mask), "bible", ["es"], settings(limit=2)))
    assert empty == base
    assert not np.allclose(off["bible_xling_next_es"], base["bible_xling_next_es"])


def test_the_bible_task_never_uses_an_analysis_or_perplexity_verse():
    config = validate(yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8")))
    books = config["reasoning"]["bible"]["books"]
    used = {book for spec in config["datasets"].values() for book in spec["options"]["books"]}
    items = bible_items("zh", books, 2, 0)
    verse_books = {int(verse.split(":")[0]) for item in items for verse in item["verses"]}
    assert used == {1, 2, 40} and verse_books == set(books) == {43}  # analysis, concepts (probes), perplexity
    clash = {**config, "reasoning": {**config["reasoning"], "bible": {**config["reasoning"]["bible"], "books": [40]}}}
    with pytest.raises(LinguaFrancaError, match=r"reasoning.bible.books.*\[40\].*bible_matthew"):
        validate(copy.deepcopy(clash))


def test_bible_items_are_the_same_questions_in_every_language():
    en, zh = bible_items("en", [43], 3, 1), bible_items("zh", [43], 3, 1)
    by_id = {item["id"]: item for item in en}
    assert len(zh) >= len(en) - 2
    for item in zh:
        other = by_id[item["id"]]
        assert (item["choices"], item["label"], item["verses"]) == (other["choices"], other["label"], other["verses"])
    for item in en:
        right = item["choices"][item["label"]]
        wrong = item["choices"][1 - item["label"]]
        assert right != wrong and item["verses"][-1] not in item["verses"][:-1]
        assert abs(len(wrong) - len(right)) <= 0.2 * len(right) or len(right) < 20 or len(right) > 300


def test_missing_xstorycloze_folder_names_the_expected_files_and_columns(tmp_path):
    with pytest.raises(LinguaFrancaError, match=r"spring2016\.val\.\{lang\}\.tsv\.split_20_80_eval\.tsv.*InputStoryid"):
        story_items("es", str(tmp_path / "nowhere"))


def test_malformed_xstorycloze_file_names_the_missing_columns(tmp_path):
    for lang in ("en", "es"):
        columns = [c for c in STORY_COLUMNS if c != "InputSentence3"] if lang == "es" else STORY_COLUMNS
        (tmp_path / f"spring2016.val.{lang}.tsv.split_20_80_eval.tsv").write_text(
            "\t".join(columns) + "\n" + "\t".join(["1"] * len(columns)) + "\n", encoding="utf-8")
    with pytest.raises(LinguaFrancaError, match=r"lacks columns InputSentence3 .*expected files"):
        story_items("es", str(tmp_path))
    with pytest.raises(LinguaFrancaError, match="XStoryCloze has no 'fr'"):
        story_items("fr", str(tmp_path))


def test_wilson_interval_matches_the_formula_by_brute_force():
    # The Wilson interval is the set of p whose score test (p_hat - p)^2 <= z^2 p (1 - p) / n does not reject.
    for correct, n in ((5, 10), (0, 7), (7, 7), (63, 100)):
        low, high = wilson(correct, n)
        grid = np.linspace(0, 1, 200001)
        accepted = grid[(correct / n - grid) ** 2 <= 1.959963984540054**2 * grid * (1 - grid) / n]
        assert low == pytest.approx(accepted.min(), abs=1e-5) and high == pytest.approx(accepted.max(), abs=1e-5)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_accuracy_table_layout(tmp_path):
    def result(acc_by_lang, n=10):
        return {"results": {f"xstorycloze_xling_{lang}": {"acc,none": acc} for lang, acc in acc_by_lang.items()},
                "n-samples": {f"xstorycloze_xling_{lang}": {"effective": n} for lang in acc_by_lang}}

    paths = {}
    for condition, accs in {"none": {"en": 0.7, "zh": 0.6}, "random": {"en": 0.6, "zh": 0.5}, "zh": {"zh": 0.3}}.items():
        paths[condition] = tmp_path / f"{condition}.json"
        write_results(paths[condition], result(accs), {"compute": "float32"})
    # The fr condition has no XStoryCloze result (it gets no job): its column is there, and empty.
    rows, columns = accuracy_rows({"xstorycloze": paths}, ["none", "random", "zh", "fr"], ["en", "zh", "fr"])
    assert columns == ["task", "language", "available", "n", "acc_none", "low_none", "high_none", "acc_random",
                       "low_random", "high_random", "acc_zh", "low_zh", "high_zh", "acc_fr", "low_fr", "high_fr",
                       "compute"]
    en, zh, fr = rows
    assert (en["available"], en["n"], en["acc_none"], en["acc_zh"]) == ("yes", 10, 0.7, "")
    assert (zh["acc_zh"], zh["low_zh"]) == (0.3, wilson(3, 10)[0])
    assert fr["available"] == NOT_AVAILABLE and fr["acc_none"] == "" and fr["compute"] == "float32"
    assert fr["acc_fr"] == fr["low_fr"] == fr["high_fr"] == ""

"""A language that a stage has no task or text for is said at parse time and marked not available, instead of
failing the run: the user's own text in isiXhosa (xh), which the Bible reasoning task does not have."""

import json

import yaml

from linguafranca.data.bible import TRANSLATIONS
from linguafranca.reasoning.items import available, unavailable_languages
from tests.helpers.paths import REPO
from tests.helpers.tiny import save_tiny
from tests.helpers.workflow import planned_jobs, snakemake


def test_every_bible_language_has_a_reasoning_task_and_others_have_none():
    assert [lang for lang in TRANSLATIONS if not available("bible", lang)] == []
    assert not available("bible", "xh") and not available("bible", "pt-BR") and available("xstorycloze", "sw")
    assert unavailable_languages(["bible", "xstorycloze"], ["en", "fr", "xh"]) == {"bible": ["xh"],
                                                                                 "xstorycloze": ["fr", "xh"]}


def test_a_language_without_reasoning_items_gets_a_note_and_no_job(tmp_path):
    files = {}
    for lang, words in {"en": "one two three", "zh": "一 二 三", "xh": "nye mbini ntathu"}.items():
        path = tmp_path / f"{lang}.jsonl"
        path.write_text("".join(json.dumps({"id": f"v{i}", "text": f"{words} {i}"}, ensure_ascii=False) + "\n"
                                for i in range(4)), encoding="utf-8")
        files[lang] = str(path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "languages": ["en", "zh", "xh"],
        "models": {"tiny": {"source": "local", "name": str(save_tiny("llama", tmp_path / "model")), "device": "cpu"}},
        "datasets": {"mine": {"loader": "table", "options": {"files": files}}},
        "regions": {"threshold": 1},
        "ablation": {"datasets": []},
        "reasoning": {"tasks": ["bible"], "limit": 2},
        "probes": {"dataset": None},
    }, allow_unicode=True))
    code = REPO
    dry = snakemake(tmp_path, code, "--configfile", str(config), "-n", "all")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert ("linguafranca: note: reasoning task bible has no items in xh; accuracy.tsv marks them not available"
            in dry.stderr)
    planned = planned_jobs(tmp_path, code, config)
    reasoning = {dict(wildcards)["condition"] for rule, wildcards in planned if rule == "reasoning_condition"}
    assert reasoning == {"en", "zh", "random_en", "random_zh"}
    assert {rule for rule, _ in planned} >= {"reasoning_baseline", "reasoning_random"}
